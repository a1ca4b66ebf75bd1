-- purpose: an ingest batch by id with its source kind (alerts scan only referral batches)
-- params: batch_id BIGINT - the ingest batch
-- columns: batch_id, status, referrals
SELECT b.batch_id, b.status, (SELECT count(*) FROM referrals r WHERE r.batch_id = b.batch_id) AS referrals
FROM ingest_batches b WHERE b.batch_id = $batch_id
