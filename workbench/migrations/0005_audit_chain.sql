-- Schema version 5: a hash chain over the audit log (docs/data-model.md, "Audit log").
-- Every row carries its place in the chain (seq 1, 2, 3 ... with no gaps), the hash of the row before it
-- and its own hash: row_hash = sha256(prev_hash || '\n' || canonical JSON of the row). Rows already in the
-- log are chained in audit_id order by the workbench right after this file runs, in the same transaction
-- (workbench/store.py, _chain_existing_audit_rows), which also writes the one row of audit_head.
-- audit_head: the last seq and hash, so that deleting rows from the end of the log is seen too.

ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash VARCHAR;
ALTER TABLE audit_log ADD COLUMN row_hash VARCHAR;

CREATE TABLE audit_head (
    seq         BIGINT NOT NULL,      -- seq of the last row of the chain (0: empty log)
    row_hash    VARCHAR NOT NULL,     -- its row_hash (64 zeros for an empty log)
    updated_at  TIMESTAMP NOT NULL
);
