-- purpose: disposal: clear the derived plate and description of every resolved vehicle that held a disposed mention (_disp_entities), and of any inactive one showing a disposed plate (_disp_values)
-- params: none
-- columns: (updates resolved_vehicles)
UPDATE resolved_vehicles SET vrm = NULL, make = NULL, colour = NULL WHERE vehicle_id IN (SELECT entity_id FROM _disp_entities WHERE entity = 'vehicle') OR (status <> 'active' AND vrm IN (SELECT value FROM _disp_values WHERE kind = 'vrm'))
