-- purpose: the ingest batches a package read (those that loaded its referrals): file, hash, when
-- params: batch_ids BIGINT[] - the batches
-- columns: batch_id, source_name, file_name, file_sha256, finished_at
SELECT batch_id, source_name, file_name, file_sha256, finished_at
FROM ingest_batches
WHERE batch_id IN (SELECT CAST(unnest($batch_ids) AS BIGINT))
ORDER BY batch_id
