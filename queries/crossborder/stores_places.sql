-- purpose: every placed store with its force, to name the force of an estimated home base (nearest store)
-- params: none
-- columns: store_id, town, latitude, longitude, force_code
SELECT store_id, town, latitude, longitude, force_code FROM stores
WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND force_code IS NOT NULL
ORDER BY store_id
