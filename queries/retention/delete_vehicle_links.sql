-- purpose: disposal: the vehicle links of the disposed mentions (_disp_vm)
-- params: none
-- columns: (deletes vehicle_links rows)
DELETE FROM vehicle_links WHERE mention_id IN (SELECT mention_id FROM _disp_vm)
