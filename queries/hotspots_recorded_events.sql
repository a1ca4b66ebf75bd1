-- purpose: police.uk street-level crimes loaded into the store by `workbench ingest` (recorded_crimes) as hotspot events, one crime type, optionally one force
-- params: crime_type VARCHAR - e.g. Shoplifting; force_code VARCHAR - force (NULL = all)
-- columns: crime_id, month, occurred_at, latitude, longitude, lsoa_code, force_code, offence_type
SELECT crime_id, strftime(month, '%Y-%m') AS month, CAST(month AS TIMESTAMP) AS occurred_at, latitude, longitude,
       lsoa_code, force_code, crime_type AS offence_type
FROM recorded_crimes
WHERE lower(crime_type) = lower($crime_type)
  AND latitude IS NOT NULL AND longitude IS NOT NULL
  AND ($force_code IS NULL OR force_code = $force_code)
ORDER BY month, crime_key
