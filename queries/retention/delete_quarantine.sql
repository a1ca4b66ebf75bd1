-- purpose: disposal: quarantined rows that hold a disposed referral's data (ids in _disp_quarantine, found by reference and crime number)
-- params: none
-- columns: (deletes quarantine rows)
DELETE FROM quarantine WHERE quarantine_id IN (SELECT quarantine_id FROM _disp_quarantine)
