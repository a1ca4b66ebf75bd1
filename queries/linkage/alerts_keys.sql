-- purpose: the (mention, entity, entity id) keys of alerts already raised for some mentions (a rescan skips them)
-- params: batch_id BIGINT - the ingest batch whose alerts to read
-- columns: mention_id, entity, entity_id
SELECT mention_id, entity, entity_id FROM alerts WHERE batch_id = $batch_id
