-- purpose: ingest batches, newest first, with their counts
-- params: none
-- columns: batch_id, source_name, file_name, status, started_at, os_user, rows_read, rows_accepted, rows_quarantined, duplicates_merged
SELECT batch_id, source_name, file_name, status, started_at, os_user, rows_read, rows_accepted, rows_quarantined,
       duplicates_merged
FROM ingest_batches ORDER BY batch_id DESC
