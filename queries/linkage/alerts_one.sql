-- purpose: one alert by id (acknowledgement checks it exists and is open)
-- params: alert_id BIGINT - the alert
-- columns: alert_id, status, entity, entity_id, mention_id, batch_id
SELECT alert_id, status, entity, entity_id, mention_id, batch_id FROM alerts WHERE alert_id = $alert_id
