-- purpose: the hotspot explorer's time series and forecast input: incidents per H3 cell (r7 or r8) and week from hotspot_cube for the filters; ISO weeks (Monday start) when $end is NULL, else 7-day blocks ending the day before $end
-- params: resolution INTEGER - 7 or 8; start DATE; end DATE - exclusive (NULL: calendar weeks, all data); force_code VARCHAR; retailer_id VARCHAR; offence_type VARCHAR; tactic_code VARCHAR
-- columns: unit_id, period_start, incidents
SELECT CASE WHEN $resolution = 7 THEN h3_r7 ELSE h3_r8 END AS unit_id,
       CASE WHEN $end IS NULL THEN CAST(date_trunc('week', day) AS DATE)
            ELSE CAST($end AS DATE) + CAST(7 * floor(date_diff('day', CAST($end AS DATE), day) / 7.0) AS INTEGER)
       END AS period_start,
       sum(incidents) AS incidents
FROM hotspot_cube
WHERE tactic_code = coalesce($tactic_code, '')
  AND ($start IS NULL OR day >= $start)
  AND ($end IS NULL OR day < $end)
  AND ($force_code IS NULL OR force_code = $force_code)
  AND ($retailer_id IS NULL OR retailer_id = $retailer_id)
  AND ($offence_type IS NULL OR offence_type = $offence_type)
GROUP BY 1, 2
ORDER BY 2, 1
