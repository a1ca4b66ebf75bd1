-- purpose: coordinates of the postcodes in the registered view _pc_lookup(postcode_norm), from the postcode directory
-- params: none
-- columns: postcode_norm, latitude, longitude
SELECT l.postcode_norm, p.latitude, p.longitude
FROM _pc_lookup l
JOIN postcodes p ON p.postcode_norm = l.postcode_norm
