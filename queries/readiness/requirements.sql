-- purpose: Opal's referral requirements that ingest does not enforce, per validated row (view v of workbench.ingest.pipeline.validated): an evidence reference (CCTV/still through DEMS), a grading, and the referral threshold
-- params: min_value_gbp DOUBLE - value at or above which a referral meets the threshold; min_offenders INTEGER - or at least this many offenders; violence_meets BOOLEAN - or violence against staff; detained_meets BOOLEAN - or an offender detained; require_evidence BOOLEAN - check the evidence reference; require_grading BOOLEAN - check a grading is given
-- columns: row_number, rule, field, value
WITH r AS (
  SELECT _row, cctv, value_gbp, offenders_count, value_num, offenders_num,
    dems_ref IS NOT NULL OR still_ref IS NOT NULL
      OR (evidence IS NOT NULL AND trim(evidence) NOT IN ('[]', '{}', 'null', '')) AS has_reference,
    coalesce(cctv_b, FALSE) AS cctv_held,
    grading IS NULL AND source_evaluation IS NULL AND intelligence_assessment IS NULL AND handling_code IS NULL
      AND grading_object IS NULL AS no_grading,
    ($violence_meets AND coalesce(violence_b, FALSE)) OR ($detained_meets AND coalesce(detained_b, FALSE)) AS serious
  FROM v)
SELECT _row AS row_number, 'READY_DEMS_MISSING' AS rule, 'dems_ref' AS field, cctv AS value
FROM r WHERE $require_evidence AND cctv_held AND NOT has_reference
UNION ALL
SELECT _row, 'READY_EVIDENCE_MISSING', 'dems_ref', cctv FROM r WHERE $require_evidence AND NOT cctv_held AND NOT has_reference
UNION ALL
SELECT _row, 'READY_GRADING_MISSING', 'grading', NULL FROM r WHERE $require_grading AND no_grading
UNION ALL
SELECT _row, 'READY_THRESHOLD_UNKNOWN', 'value_gbp', NULL
FROM r WHERE value_gbp IS NULL AND offenders_count IS NULL AND NOT serious
UNION ALL
SELECT _row, 'READY_BELOW_THRESHOLD', 'value_gbp',
       concat_ws(', ', CASE WHEN value_num IS NOT NULL THEN 'value £' || value_num::VARCHAR END,
                 CASE WHEN offenders_num IS NOT NULL THEN offenders_num::VARCHAR || ' offender(s)' END)
FROM r WHERE (value_num IS NOT NULL OR offenders_num IS NOT NULL) AND coalesce(value_num, 0) < $min_value_gbp
  AND coalesce(offenders_num, 0) < $min_offenders AND NOT serious
ORDER BY row_number
