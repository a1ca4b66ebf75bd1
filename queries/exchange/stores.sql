-- purpose: the stores table for the Parquet exchange export: the retail estate with its geography (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: store_id, retailer_id, store_ref, name, address, town, postcode, latitude, longitude, force_code, lsoa_code, location_force_code, h3_r7, h3_r8, h3_r9
SELECT store_id, retailer_id, store_ref, name, address, town, postcode, latitude, longitude, force_code, lsoa_code, location_force_code, h3_r7, h3_r8, h3_r9
FROM stores
ORDER BY store_id
