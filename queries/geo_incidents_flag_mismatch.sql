-- purpose: flag incidents whose stated force (force_code) differs from the force area of their location
-- params: none
-- columns: none (UPDATE)
UPDATE incidents SET force_mismatch = (force_code <> location_force_code)
WHERE force_mismatch IS NULL
  AND force_code IS NOT NULL
  AND location_force_code IS NOT NULL
