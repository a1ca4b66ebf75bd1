-- purpose: incidents not yet placed inherit the placement (force area, LSOA, H3 cells) of their enriched store
-- params: none
-- columns: none (UPDATE)
UPDATE incidents SET
    location_force_code = s.location_force_code,
    lsoa_code = s.lsoa_code,
    h3_r7 = s.h3_r7,
    h3_r8 = s.h3_r8,
    h3_r9 = s.h3_r9,
    latitude = coalesce(incidents.latitude, s.latitude),
    longitude = coalesce(incidents.longitude, s.longitude)
FROM stores s
WHERE incidents.store_id = s.store_id
  AND incidents.h3_r7 IS NULL
  AND s.h3_r7 IS NOT NULL
