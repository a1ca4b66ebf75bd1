-- purpose: one quarantined row in full: raw values as read and every reason
-- params: quarantine_id BIGINT - the entry
-- columns: quarantine_id, batch_id, source_name, source_file, row_number, status, raw, reasons, created_at, resolved_batch_id
SELECT quarantine_id, batch_id, source_name, source_file, row_number, status, raw::VARCHAR AS raw,
       reasons::VARCHAR AS reasons, created_at, resolved_batch_id
FROM quarantine WHERE quarantine_id = $quarantine_id
