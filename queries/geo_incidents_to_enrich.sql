-- purpose: incidents still unplaced after inheriting from stores: placed from their own coordinates or postcode
-- params: none
-- columns: incident_id, latitude, longitude, postcode
SELECT incident_id, latitude, longitude, postcode
FROM incidents
WHERE h3_r7 IS NULL
ORDER BY incident_id
