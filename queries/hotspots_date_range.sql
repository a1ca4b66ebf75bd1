-- purpose: first and last incident time (and count) with a location, optionally in one force area
-- params: force_code VARCHAR - force area (NULL = all)
-- columns: first_at, last_at, incidents
SELECT min(i.occurred_at) AS first_at, max(i.occurred_at) AS last_at, count(*) AS incidents
FROM incidents i
LEFT JOIN stores s ON s.store_id = i.store_id
WHERE i.occurred_at IS NOT NULL
  AND coalesce(i.latitude, s.latitude) IS NOT NULL
  AND ($force_code IS NULL OR coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code) = $force_code)
