-- purpose: whether a group, resolved person or resolved vehicle id exists, its status and what it was merged into (series look-ups)
-- params: entity_id VARCHAR - a group (GR...), person (RP...) or vehicle (RV...) id
-- columns: kind, entity_id, status, merged_into, label
SELECT 'group' AS kind, group_id AS entity_id, status, merged_into, label FROM groups WHERE group_id = $entity_id
UNION ALL
SELECT 'person', person_id, status, merged_into, display_name FROM resolved_persons WHERE person_id = $entity_id
UNION ALL
SELECT 'vehicle', vehicle_id, status, merged_into, vrm FROM resolved_vehicles WHERE vehicle_id = $entity_id
