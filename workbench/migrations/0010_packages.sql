-- Schema version 10: intelligence packages (workbench.packages, docs/packages.md). The analyst's words with
-- every version kept, each distinct package content built for a subject (its version, state and who moved
-- it), and the dissemination log (which version went to which force, when, under which handling code).

CREATE TABLE package_words (                -- the analyst's text of a package section, every version kept
    subject_id      VARCHAR NOT NULL,       -- the package's subject: GR..., RP... or RV...
    section         VARCHAR NOT NULL,       -- summary, assessment or recommendations
    version         INTEGER NOT NULL,       -- 1, 2, 3 ... per subject and section
    body            VARCHAR NOT NULL,       -- the text as written (raw: escaped wherever rendered)
    sha256          VARCHAR NOT NULL,       -- of body (UTF-8)
    author          VARCHAR NOT NULL,       -- account that saved it
    saved_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (subject_id, section, version)
);

CREATE TABLE package_versions (             -- one row per distinct package content of a subject
    subject_id      VARCHAR NOT NULL,
    version         INTEGER NOT NULL,       -- 1, 2, 3 ... per subject, in the order first built
    content_sha256  VARCHAR NOT NULL,       -- of the package's canonical content (figures, tables, words)
    lead_force      VARCHAR,                -- force code the package is addressed to
    state           VARCHAR NOT NULL,       -- draft, reviewed or approved
    first_built_at  TIMESTAMP NOT NULL,
    first_built_by  VARCHAR NOT NULL,
    reviewed_by     VARCHAR,
    reviewed_at     TIMESTAMP,
    approved_by     VARCHAR,
    approved_at     TIMESTAMP,
    PRIMARY KEY (subject_id, version)
);

CREATE TABLE package_disseminations (       -- which version went to which force, when, under which handling
    dissemination_id BIGINT PRIMARY KEY,    -- 1, 2, 3 ...
    subject_id      VARCHAR NOT NULL,
    version         INTEGER NOT NULL,
    force_code      VARCHAR NOT NULL,       -- the receiving force
    role            VARCHAR NOT NULL,       -- lead or copy
    handling_code   VARCHAR NOT NULL,       -- P or C (3x5x2)
    handling_conditions VARCHAR,            -- the conditions when C
    sent_at         TIMESTAMP NOT NULL,
    sent_by         VARCHAR NOT NULL,
    purpose         VARCHAR NOT NULL
);
