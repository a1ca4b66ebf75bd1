-- purpose: disposal: clear an alert's entity label that shows a disposed name or plate (the alert's own mention stays)
-- params: none
-- columns: (updates alerts)
UPDATE alerts SET entity_label = NULL WHERE entity_label IN (SELECT value FROM _disp_values WHERE kind IN ('name', 'vrm'))
