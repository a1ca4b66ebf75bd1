-- purpose: the resolved persons and vehicles that hold a mention of the referrals being disposed (temp tables _disp_pm, _disp_vm), before their links are deleted
-- params: none
-- columns: entity, entity_id
SELECT DISTINCT 'person' AS entity, person_id AS entity_id FROM person_links WHERE mention_id IN (SELECT mention_id FROM _disp_pm)
UNION SELECT DISTINCT 'vehicle', vehicle_id FROM vehicle_links
WHERE vehicle_id IS NOT NULL AND mention_id IN (SELECT mention_id FROM _disp_vm)
ORDER BY 1, 2
