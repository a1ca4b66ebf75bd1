-- purpose: disposal: cloned-plate flags raised on a disposed vehicle mention (_disp_vm)
-- params: none
-- columns: (deletes vehicle_flags rows)
DELETE FROM vehicle_flags WHERE mention_a IN (SELECT mention_id FROM _disp_vm) OR mention_b IN (SELECT mention_id FROM _disp_vm)
