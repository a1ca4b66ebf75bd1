-- purpose: the metadata of a training store (its case, seed, source and when built); no rows in a real store
-- params: none
-- columns: key, value
SELECT key, value FROM training_case ORDER BY key
