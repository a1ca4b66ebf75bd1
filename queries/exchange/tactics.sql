-- purpose: the tactics table for the Parquet exchange export: the controlled vocabulary of tactics (reference, for decoding tactic_code) (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: tactic_code, kind, name, description
SELECT tactic_code, kind, name, description
FROM tactics
ORDER BY tactic_code
