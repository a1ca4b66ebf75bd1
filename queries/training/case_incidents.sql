-- purpose: the incidents of a training case, as stored in the source store
-- params: incident_ids BIGINT[] - the case's incidents
-- columns: every column of incidents
SELECT * FROM incidents WHERE list_contains($incident_ids, incident_id) ORDER BY occurred_at, incident_id
