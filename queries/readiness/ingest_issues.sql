-- purpose: every ingest rule that fires on each row of a file staged by workbench.ingest.pipeline.validated: the validation issues (with the value), the mention flags the load would raise (mflags), the rows held back with their referral and the malformed rows
-- params: none
-- columns: row_number, rule, field, value
SELECT x._row AS row_number, x.u.code AS rule, x.u.field AS field, x.u.value AS value
FROM (SELECT _row, unnest(issues) AS u FROM v) x
UNION ALL SELECT _row, code, field, value FROM mflags
UNION ALL SELECT _row, 'REFERRAL_INCOMPLETE', NULL, NULL FROM vq WHERE held_back
UNION ALL SELECT _row, 'ROW_MALFORMED', NULL, left(message, 200) FROM raw_bad
ORDER BY row_number
