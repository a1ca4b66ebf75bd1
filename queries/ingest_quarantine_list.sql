-- purpose: quarantined rows with their source, file, row and the rules they broke (newest first)
-- params: source VARCHAR - source name or NULL for all; status VARCHAR - open | exported | resolved or NULL for all; batch_id BIGINT - batch or NULL for all
-- columns: quarantine_id, batch_id, source_name, source_file, row_number, status, rules, resolved_batch_id
SELECT quarantine_id, batch_id, source_name, source_file, row_number, status,
       array_to_string(list_distinct(json_extract_string(reasons, '$[*].rule')), ', ') AS rules,
       resolved_batch_id
FROM quarantine
WHERE ($source IS NULL OR source_name = $source)
  AND ($status IS NULL OR status = $status OR ($status = 'open' AND status = 'exported'))
  AND ($batch_id IS NULL OR batch_id = $batch_id)
ORDER BY batch_id DESC, row_number
