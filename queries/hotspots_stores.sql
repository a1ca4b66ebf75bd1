-- purpose: stores with a location for patrol plans (optionally in one force area)
-- params: force_code VARCHAR - force area (NULL = all)
-- columns: store_id, retailer_id, retailer_name, name, town, postcode, latitude, longitude, force_code, lsoa_code, h3_r7, h3_r8, h3_r9
SELECT s.store_id, s.retailer_id, r.name AS retailer_name, s.name, s.town, s.postcode, s.latitude, s.longitude,
       coalesce(s.location_force_code, s.force_code) AS force_code, s.lsoa_code, s.h3_r7, s.h3_r8, s.h3_r9
FROM stores s
LEFT JOIN retailers r ON r.retailer_id = s.retailer_id
WHERE s.latitude IS NOT NULL AND s.longitude IS NOT NULL
  AND ($force_code IS NULL OR coalesce(s.location_force_code, s.force_code) = $force_code)
ORDER BY s.store_id
