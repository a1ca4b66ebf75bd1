-- purpose: the current referrals behind a package's incidents with their grading, handling and the source file row they came from (batch, file name and hash); the source's own reference and the referrer are deliberately not selected (withheld from dissemination)
-- params: incident_ids BIGINT[] - the package's incidents
-- columns: incident_id, referral_id, batch_id, source_name, source_type, source_row, file_name, file_sha256, received_at, grading_scheme, source_evaluation, intelligence_assessment, handling_code, handling_conditions, version
SELECT ri.incident_id, r.referral_id, r.batch_id, r.source_name, r.source_type, r.source_row, b.file_name,
       b.file_sha256, r.received_at, r.grading_scheme, r.source_evaluation, r.intelligence_assessment,
       r.handling_code, r.handling_conditions, r.version
FROM referral_incidents ri
JOIN referrals r ON r.referral_id = ri.referral_id AND r.is_current
LEFT JOIN ingest_batches b ON b.batch_id = r.batch_id
WHERE ri.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
ORDER BY ri.incident_id, r.referral_id
