-- purpose: the hotspot explorer's aggregated map layer: incidents per H3 cell (r7 or r8) from hotspot_cube for the filters (NULL = any; tactic NULL = all tactics)
-- params: resolution INTEGER - 7 or 8; start DATE; end DATE - exclusive; force_code VARCHAR; retailer_id VARCHAR; offence_type VARCHAR; tactic_code VARCHAR
-- columns: unit_id, force_code, incidents, value_gbp
SELECT CASE WHEN $resolution = 7 THEN h3_r7 ELSE h3_r8 END AS unit_id,
       any_value(force_code) AS force_code,
       sum(incidents) AS incidents,
       sum(value_gbp) AS value_gbp
FROM hotspot_cube
WHERE tactic_code = coalesce($tactic_code, '')
  AND ($start IS NULL OR day >= $start)
  AND ($end IS NULL OR day < $end)
  AND ($force_code IS NULL OR force_code = $force_code)
  AND ($retailer_id IS NULL OR retailer_id = $retailer_id)
  AND ($offence_type IS NULL OR offence_type = $offence_type)
GROUP BY 1
ORDER BY incidents DESC, unit_id
