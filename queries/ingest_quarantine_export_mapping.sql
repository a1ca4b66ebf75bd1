-- purpose: the source mapping (path and YAML text) stored with the batches whose rows a quarantine export writes, newest first
-- params: source VARCHAR - source name; batch_id BIGINT - batch or NULL
-- columns: batch_id, mapping_path, mapping_yaml
SELECT b.batch_id, b.mapping_path, b.mapping_yaml
FROM ingest_batches b
WHERE b.source_name = $source
  AND b.mapping_yaml IS NOT NULL
  AND ($batch_id IS NULL OR b.batch_id = $batch_id)
  AND EXISTS (SELECT 1 FROM quarantine q WHERE q.batch_id = b.batch_id AND q.status IN ('open', 'exported'))
ORDER BY b.batch_id DESC
