-- purpose: what the groups runs did to one group: new, split, merge, retired (workbench groups show)
-- params: group_id VARCHAR - the group id
-- columns: event_id, run_id, event, entity_id, other_ids, mentions
SELECT event_id, run_id, event, entity_id, other_ids, mentions
FROM linkage_events
WHERE entity = 'group' AND (entity_id = $group_id OR list_contains(CAST(json_extract_string(other_ids, '$[*]') AS VARCHAR[]), $group_id))
ORDER BY event_id
