-- purpose: unresolved quarantined rows to export for correction, in file and row order
-- params: source VARCHAR - source name or NULL; batch_id BIGINT - batch or NULL
-- columns: quarantine_id, source_name, source_file, row_number, raw, reasons
SELECT quarantine_id, source_name, source_file, row_number, raw::VARCHAR AS raw, reasons::VARCHAR AS reasons
FROM quarantine
WHERE status IN ('open', 'exported')
  AND ($source IS NULL OR source_name = $source)
  AND ($batch_id IS NULL OR batch_id = $batch_id)
ORDER BY batch_id, row_number
