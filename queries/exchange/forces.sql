-- purpose: the forces table for the Parquet exchange export: police forces a referral may name (reference, for decoding force_code) (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: force_code, ons_code, name, country, territorial
SELECT force_code, ons_code, name, country, territorial
FROM forces
ORDER BY force_code
