-- purpose: stores not yet placed in the geography (no H3 cell yet), with what is known of their location
-- params: none
-- columns: store_id, latitude, longitude, postcode
SELECT store_id, latitude, longitude, postcode
FROM stores
WHERE h3_r7 IS NULL
ORDER BY store_id
