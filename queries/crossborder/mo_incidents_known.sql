-- purpose: which of the listed incident ids exist in the store (MO linkage candidates: an unknown id is a one-line error)
-- params: incident_ids BIGINT[] - the ids asked for
-- columns: incident_id
SELECT incident_id FROM incidents WHERE incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)) ORDER BY incident_id
