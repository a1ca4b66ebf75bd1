-- purpose: filter choices for the hotspot explorer: distinct values of each dimension in hotspot_cube, with the date range
-- params: none
-- columns: dimension, value
SELECT 'force_code' AS dimension, force_code AS value FROM hotspot_cube WHERE force_code IS NOT NULL GROUP BY 2
UNION ALL SELECT 'retailer_id', retailer_id FROM hotspot_cube WHERE retailer_id <> '' GROUP BY 2
UNION ALL SELECT 'offence_type', offence_type FROM hotspot_cube WHERE offence_type <> '' GROUP BY 2
UNION ALL SELECT 'tactic_code', tactic_code FROM hotspot_cube WHERE tactic_code <> '' GROUP BY 2
UNION ALL SELECT 'first_day', CAST(min(day) AS VARCHAR) FROM hotspot_cube
UNION ALL SELECT 'last_day', CAST(max(day) AS VARCHAR) FROM hotspot_cube
ORDER BY 1, 2
