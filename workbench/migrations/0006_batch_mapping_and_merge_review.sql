-- Schema version 6: every batch keeps the source mapping it was ingested with (its path, SHA-256 and YAML text),
-- so rows quarantined under a mapping given by path can still be exported in that mapping's layout after the
-- file has moved or changed; and an incident can carry a review reason (MERGE_SUSPECT: a crime number that
-- matched a stored incident at another store or far apart in time, kept as its own incident for review).

ALTER TABLE ingest_batches ADD COLUMN mapping_path VARCHAR;    -- the mapping file as resolved when ingested
ALTER TABLE ingest_batches ADD COLUMN mapping_sha256 VARCHAR;  -- SHA-256 of its YAML text
ALTER TABLE ingest_batches ADD COLUMN mapping_yaml VARCHAR;    -- the YAML text itself

ALTER TABLE incidents ADD COLUMN review_reason VARCHAR;        -- why an analyst should look at it (NULL: no reason)
