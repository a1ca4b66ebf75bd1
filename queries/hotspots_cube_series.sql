-- purpose: the hotspot explorer's time series and forecast input: incidents per H3 cell (r7 or r8) and week (weeks end on the day before $end) from hotspot_cube for the filters
-- params: resolution INTEGER - 7 or 8; start DATE; end DATE - exclusive (required: weeks are counted back from it); force_code VARCHAR; retailer_id VARCHAR; offence_type VARCHAR; tactic_code VARCHAR
-- columns: unit_id, period_start, incidents
SELECT CASE WHEN $resolution = 7 THEN h3_r7 ELSE h3_r8 END AS unit_id,
       CAST($end AS DATE) + CAST(7 * floor(date_diff('day', CAST($end AS DATE), day) / 7.0) AS INTEGER) AS period_start,
       sum(incidents) AS incidents
FROM hotspot_cube
WHERE tactic_code = coalesce($tactic_code, '')
  AND ($start IS NULL OR day >= $start)
  AND day < $end
  AND ($force_code IS NULL OR force_code = $force_code)
  AND ($retailer_id IS NULL OR retailer_id = $retailer_id)
  AND ($offence_type IS NULL OR offence_type = $offence_type)
GROUP BY 1, 2
ORDER BY 2, 1
