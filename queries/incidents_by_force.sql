-- purpose: incidents per force area (by the store's location), for the national picture
-- params: none
-- columns: force_code, force_name, incidents, stores
SELECT f.force_code, f.name AS force_name, count(i.incident_id) AS incidents, count(DISTINCT i.store_id) AS stores
FROM forces f
LEFT JOIN stores s ON s.force_code = f.force_code
LEFT JOIN incidents i ON i.store_id = s.store_id
WHERE f.territorial
GROUP BY f.force_code, f.name
ORDER BY incidents DESC, f.force_code
