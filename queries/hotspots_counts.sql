-- purpose: incident counts per spatial unit (h3:7, h3:8, h3:9 or lsoa, from the enrichment columns) and period (day, week from Monday, month), filtered (NULL = any)
-- params: unit VARCHAR - h3:7 | h3:8 | h3:9 | lsoa; period VARCHAR - day | week | month; force_code VARCHAR; start TIMESTAMP; end TIMESTAMP; retailer_id VARCHAR; tactic_code VARCHAR; offence_type VARCHAR
-- columns: unit_id, period_start, incidents, value_gbp
WITH ev AS (
    SELECT CASE $unit WHEN 'h3:7' THEN coalesce(i.h3_r7, s.h3_r7)
                      WHEN 'h3:8' THEN coalesce(i.h3_r8, s.h3_r8)
                      WHEN 'h3:9' THEN coalesce(i.h3_r9, s.h3_r9)
                      WHEN 'lsoa' THEN coalesce(i.lsoa_code, s.lsoa_code) END AS unit_id,
           CAST(date_trunc(CASE $period WHEN 'day' THEN 'day' WHEN 'month' THEN 'month' ELSE 'week' END,
                           i.occurred_at) AS DATE) AS period_start,
           CAST(i.value_gbp AS DOUBLE) AS value_gbp
    FROM incidents i
    LEFT JOIN stores s ON s.store_id = i.store_id
    WHERE i.occurred_at IS NOT NULL
      AND ($start IS NULL OR i.occurred_at >= $start)
      AND ($end IS NULL OR i.occurred_at < $end)
      AND ($force_code IS NULL OR coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code) = $force_code)
      AND ($retailer_id IS NULL OR s.retailer_id = $retailer_id)
      AND ($offence_type IS NULL OR i.offence_type = $offence_type)
      AND ($tactic_code IS NULL OR EXISTS (SELECT 1 FROM incident_tactics t
                                            WHERE t.incident_id = i.incident_id AND t.tactic_code = $tactic_code))
)
SELECT unit_id, period_start, count(*) AS incidents, sum(value_gbp) AS value_gbp
FROM ev
WHERE unit_id IS NOT NULL
GROUP BY unit_id, period_start
ORDER BY period_start, incidents DESC, unit_id
