-- Schema version 11: MoPI review and disposal (workbench.retention, docs/retention.md). The basis of each
-- referral's review date, analysts' retain/dispose decisions with who, when, why and purpose, and the register
-- of disposals (ids and hashes only: what was disposed is gone from every other table).

ALTER TABLE referrals ADD COLUMN review_basis VARCHAR;   -- why review_due is what it is, e.g. 'group_3; cap intelligence_assessment=E'

CREATE TABLE retention_decisions (
    decision_id     BIGINT PRIMARY KEY,     -- 1, 2, 3 ...
    referral_id     BIGINT NOT NULL,        -- the referral (current version when decided); all its versions go together
    decision        VARCHAR NOT NULL,       -- retain or dispose
    why             VARCHAR,                -- the analyst's reason; replaced by NULL once the referral is disposed
    why_sha256      VARCHAR NOT NULL,       -- sha256 of why (UTF-8): what stays after disposal
    purpose         VARCHAR NOT NULL,       -- the policing purpose stated for the review
    review_due      DATE,                   -- the review date when decided
    next_review     DATE,                   -- retain: the next review date; dispose: NULL
    decided_by      VARCHAR NOT NULL,       -- account that decided
    decided_at      TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,       -- open (latest for its referral), superseded (a later decision) or disposed
    disposal_id     BIGINT                  -- the disposal that carried it out (dispose decisions)
);

CREATE TABLE retention_disposals (
    disposal_id     BIGINT PRIMARY KEY,     -- 1, 2, 3 ...
    disposed_at     TIMESTAMP NOT NULL,
    disposed_by     VARCHAR NOT NULL,
    purpose         VARCHAR NOT NULL,
    as_of           DATE NOT NULL,
    referral_ids    VARCHAR NOT NULL,       -- JSON list of every referral id (all versions) deleted
    content_hashes  VARCHAR NOT NULL,       -- JSON list of their content hashes
    counts          VARCHAR NOT NULL        -- JSON {table: rows deleted or scrubbed}
);
