-- purpose: give stores with no recorded force area the force area their coordinates lie in
-- params: none
-- columns: none (UPDATE)
UPDATE stores SET force_code = location_force_code
WHERE force_code IS NULL AND location_force_code IS NOT NULL
