-- purpose: the data rows of a file staged and validated by ingest (temp views v, vq and raw_bad made by workbench.ingest.pipeline.validated), one per row, with the facts the readiness report shows
-- params: none
-- columns: row_number, referral_ref, crime_number, force_given, force_code, occurred_at, value_gbp, offenders, has_error, held_back, malformed
SELECT v._row AS row_number, v.referral_ref, v.crime_number, v.force AS force_given, v.force_code,
       v.occurred_ts AS occurred_at, v.value_num AS value_gbp, v.offenders_num AS offenders,
       vq.has_error, vq.held_back, FALSE AS malformed
FROM v JOIN vq ON vq._row = v._row
UNION ALL
SELECT _row, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TRUE, FALSE, TRUE FROM raw_bad
ORDER BY row_number
