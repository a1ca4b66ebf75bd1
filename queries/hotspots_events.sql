-- purpose: referral incidents with a location, as hotspot events, filtered by date range, force area, retailer, tactic and offence type (NULL = any)
-- params: force_code VARCHAR - force area of the location; start TIMESTAMP - from (inclusive); end TIMESTAMP - to (exclusive); retailer_id VARCHAR; tactic_code VARCHAR; offence_type VARCHAR
-- columns: incident_id, occurred_at, latitude, longitude, force_code, lsoa_code, h3_r7, h3_r8, h3_r9, store_id, retailer_id, offence_type, value_gbp, tactics
SELECT i.incident_id,
       i.occurred_at,
       coalesce(i.latitude, s.latitude) AS latitude,
       coalesce(i.longitude, s.longitude) AS longitude,
       coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code) AS force_code,
       coalesce(i.lsoa_code, s.lsoa_code) AS lsoa_code,
       coalesce(i.h3_r7, s.h3_r7) AS h3_r7,
       coalesce(i.h3_r8, s.h3_r8) AS h3_r8,
       coalesce(i.h3_r9, s.h3_r9) AS h3_r9,
       i.store_id,
       s.retailer_id,
       i.offence_type,
       CAST(i.value_gbp AS DOUBLE) AS value_gbp,
       (SELECT string_agg(DISTINCT t.tactic_code, ';' ORDER BY t.tactic_code)
          FROM incident_tactics t WHERE t.incident_id = i.incident_id) AS tactics
FROM incidents i
LEFT JOIN stores s ON s.store_id = i.store_id
WHERE i.occurred_at IS NOT NULL
  AND coalesce(i.latitude, s.latitude) IS NOT NULL
  AND coalesce(i.longitude, s.longitude) IS NOT NULL
  AND ($start IS NULL OR i.occurred_at >= $start)
  AND ($end IS NULL OR i.occurred_at < $end)
  AND ($force_code IS NULL OR coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code) = $force_code)
  AND ($retailer_id IS NULL OR s.retailer_id = $retailer_id)
  AND ($offence_type IS NULL OR i.offence_type = $offence_type)
  AND ($tactic_code IS NULL OR EXISTS (SELECT 1 FROM incident_tactics t
                                        WHERE t.incident_id = i.incident_id AND t.tactic_code = $tactic_code))
ORDER BY i.occurred_at, i.incident_id
