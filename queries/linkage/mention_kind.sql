-- purpose: whether a mention id is a person mention, a vehicle mention, or unknown (no rows)
-- params: mention_id BIGINT - the mention id to look up
-- columns: entity, mention_id
SELECT 'person' AS entity, mention_id FROM person_mentions WHERE mention_id = $mention_id
UNION ALL
SELECT 'vehicle' AS entity, mention_id FROM vehicle_mentions WHERE mention_id = $mention_id
