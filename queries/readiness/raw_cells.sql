-- purpose: the cells of a file as ingest read them (temp table raw of workbench.ingest.pipeline.validated: _row, then c0, c1, ... per header, or _json for JSON), for the corrected template
-- params: none
-- columns: _row, c0, c1, ... (or _json)
SELECT * FROM raw ORDER BY _row
