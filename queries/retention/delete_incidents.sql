-- purpose: disposal: the incidents only the disposed referrals support
-- params: none
-- columns: (deletes incidents rows)
DELETE FROM incidents WHERE incident_id IN (SELECT incident_id FROM _disp_incidents)
