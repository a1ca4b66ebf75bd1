-- purpose: per referring source, the share of referral rows that met Opal's threshold (a crime number) across all ingests
-- params: none
-- columns: source_name, source_type, rows_read, rows_missing_crime_number, rows_quarantined, rows_accepted, share_meeting_threshold
WITH reads AS (
    SELECT source_name, sum(rows_read) AS rows_read, sum(rows_quarantined) AS rows_quarantined,
           sum(rows_accepted) AS rows_accepted
    FROM ingest_batches WHERE status = 'committed' GROUP BY source_name),
missing AS (
    SELECT source_name, count(*) AS n FROM quarantine
    WHERE list_contains(json_extract_string(reasons, '$[*].rule'), 'CRIME_NUMBER_MISSING') GROUP BY source_name),
types AS (SELECT source_name, any_value(source_type) AS source_type FROM referrals GROUP BY source_name)
SELECT r.source_name, coalesce(t.source_type, 'other') AS source_type, r.rows_read,
       coalesce(m.n, 0) AS rows_missing_crime_number, r.rows_quarantined, r.rows_accepted,
       round(1 - coalesce(m.n, 0) / nullif(r.rows_read, 0), 4) AS share_meeting_threshold
FROM reads r LEFT JOIN missing m USING (source_name) LEFT JOIN types t USING (source_name)
WHERE r.source_name NOT IN ('store_directory', 'police_uk_street')
ORDER BY share_meeting_threshold, r.source_name
