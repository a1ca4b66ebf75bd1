-- purpose: unresolved quarantined rows per source and rule (a row with several reasons counts once per rule)
-- params: none
-- columns: source_name, rule, rows
SELECT source_name, rule, count(*) AS rows
FROM (SELECT source_name, unnest(list_distinct(json_extract_string(reasons, '$[*].rule'))) AS rule
      FROM quarantine WHERE status <> 'resolved')
GROUP BY ALL ORDER BY source_name, rows DESC
