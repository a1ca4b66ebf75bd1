-- purpose: the lines ingest could not split into the file's columns (temp table raw_bad of workbench.ingest.pipeline.validated), for the corrected template
-- params: none
-- columns: _row, raw
SELECT _row, raw FROM raw_bad ORDER BY _row
