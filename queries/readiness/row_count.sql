-- purpose: how many data rows a file staged by workbench.ingest.pipeline.validated holds (read and malformed)
-- params: none
-- columns: rows
SELECT (SELECT count(*) FROM raw) + (SELECT count(*) FROM raw_bad) AS rows
