-- purpose: the retailers table for the Parquet exchange export: retailers whose stores refer (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: retailer_id, name, sector
SELECT retailer_id, name, sector
FROM retailers
ORDER BY retailer_id
