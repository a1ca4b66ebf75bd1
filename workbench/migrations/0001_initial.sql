-- Schema version 1: the canonical referral store.
-- Relationships are documented in docs/data-model.md; DuckDB foreign keys are not declared because
-- they forbid the in-place updates that supersession and enrichment need.

CREATE TABLE forces (
    force_code   VARCHAR PRIMARY KEY,   -- CJS code ('01'..'63'); workbench codes BTP/PSCOT/PSNI for the others
    ons_code     VARCHAR,               -- ONS PFA16CD, NULL outside England & Wales territorial forces
    name         VARCHAR NOT NULL,
    country      VARCHAR NOT NULL,
    territorial  BOOLEAN NOT NULL
);

CREATE TABLE force_aliases (
    alias_norm   VARCHAR PRIMARY KEY,   -- normalised spelling (lower case, no punctuation, '&' -> 'and')
    force_code   VARCHAR NOT NULL
);

CREATE TABLE tactics (
    tactic_code  VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,      -- method | target | escalation
    name         VARCHAR NOT NULL,
    description  VARCHAR NOT NULL
);

CREATE TABLE tactic_synonyms (
    synonym_norm VARCHAR PRIMARY KEY,
    tactic_code  VARCHAR NOT NULL
);

CREATE TABLE retailers (
    retailer_id  VARCHAR PRIMARY KEY,   -- short stable code, e.g. BRM
    name         VARCHAR NOT NULL,
    sector       VARCHAR
);

CREATE TABLE stores (
    store_id     VARCHAR PRIMARY KEY,   -- retailer_id || '-' || store_ref
    retailer_id  VARCHAR NOT NULL,
    store_ref    VARCHAR NOT NULL,      -- the retailer's own branch number
    name         VARCHAR,
    address      VARCHAR,
    town         VARCHAR,
    postcode     VARCHAR,
    latitude     DOUBLE,
    longitude    DOUBLE,
    force_code   VARCHAR                -- force area the store lies in
);

CREATE SEQUENCE batch_id_seq START 1;
CREATE TABLE ingest_batches (
    batch_id          BIGINT PRIMARY KEY DEFAULT nextval('batch_id_seq'),
    source_name       VARCHAR NOT NULL,
    file_name         VARCHAR NOT NULL,
    file_sha256       VARCHAR NOT NULL,
    file_bytes        BIGINT,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    os_user           VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,   -- committed | failed | no-op
    rows_read         BIGINT DEFAULT 0,
    rows_accepted     BIGINT DEFAULT 0,
    rows_quarantined  BIGINT DEFAULT 0,
    duplicates_merged BIGINT DEFAULT 0,
    report            JSON
);

CREATE SEQUENCE referral_id_seq START 1;
CREATE TABLE referrals (
    referral_id             BIGINT PRIMARY KEY DEFAULT nextval('referral_id_seq'),
    batch_id                BIGINT,
    source_name             VARCHAR NOT NULL,   -- the source mapping, e.g. retailer_brightmart
    source_type             VARCHAR NOT NULL,   -- retailer | force | other
    source_ref              VARCHAR,            -- the referral's id as the source gave it
    source_row              BIGINT,             -- first data row of the referral in its file (1-based)
    version                 INTEGER NOT NULL DEFAULT 1,
    is_current              BOOLEAN NOT NULL DEFAULT TRUE,
    superseded_by           BIGINT,             -- referral_id of the corrected re-submission
    received_at             TIMESTAMP NOT NULL,
    referrer                VARCHAR,            -- organisation (and role) that referred
    grading_scheme          VARCHAR,            -- 3x5x2 | 5x5x5 (legacy)
    source_evaluation       VARCHAR,            -- 1 Reliable, 2 Untested, 3 Not reliable
    intelligence_assessment VARCHAR,            -- A..E
    handling_code           VARCHAR,            -- P | C
    handling_conditions     VARCHAR,            -- stated when handling_code = C
    content_hash            VARCHAR             -- hash of the referral's canonical content
);

CREATE SEQUENCE incident_id_seq START 1;
CREATE TABLE incidents (
    incident_id        BIGINT PRIMARY KEY DEFAULT nextval('incident_id_seq'),
    crime_number       VARCHAR,     -- as first given
    crime_number_norm  VARCHAR,     -- upper case, letters and digits only
    force_code         VARCHAR,     -- force that owns the crime number (as stated)
    store_id           VARCHAR,
    occurred_at        TIMESTAMP,
    offence_type       VARCHAR,     -- shoplifting | robbery | burglary | fraud | other
    value_gbp          DECIMAL(12, 2),
    offenders_count    INTEGER,
    violence           BOOLEAN,     -- violence or threats against staff
    detained           BOOLEAN,     -- security detained an offender
    latitude           DOUBLE,
    longitude          DOUBLE,
    postcode           VARCHAR,
    location_text      VARCHAR,
    narrative          VARCHAR,     -- free text as given; always escaped when rendered
    first_batch_id     BIGINT
);

CREATE TABLE referral_incidents (
    referral_id          BIGINT NOT NULL,
    incident_id          BIGINT NOT NULL,
    source_incident_ref  VARCHAR,   -- the source's own incident/log number
    PRIMARY KEY (referral_id, incident_id)
);

CREATE SEQUENCE mention_id_seq START 1;
CREATE TABLE person_mentions (
    mention_id    BIGINT PRIMARY KEY DEFAULT nextval('mention_id_seq'),
    referral_id   BIGINT NOT NULL,
    incident_id   BIGINT,
    role          VARCHAR,         -- offender | suspect | associate
    full_name     VARCHAR,         -- as given
    forename      VARCHAR,
    surname       VARCHAR,
    alias         VARCHAR,
    dob_raw       VARCHAR,         -- as given
    dob           DATE,            -- parsed, NULL if unparseable
    age_stated    INTEGER,
    gender        VARCHAR,
    description   VARCHAR,
    is_juvenile   BOOLEAN
);

CREATE TABLE vehicle_mentions (
    mention_id    BIGINT PRIMARY KEY DEFAULT nextval('mention_id_seq'),
    referral_id   BIGINT NOT NULL,
    incident_id   BIGINT,
    vrm_raw       VARCHAR,         -- as given
    vrm_norm      VARCHAR,         -- upper case, no spaces
    vrm_format    VARCHAR,         -- current | prefix | suffix | dateless | partial | unknown
    make          VARCHAR,
    model         VARCHAR,
    colour        VARCHAR
);

CREATE SEQUENCE evidence_id_seq START 1;
CREATE TABLE evidence_items (
    evidence_id   BIGINT PRIMARY KEY DEFAULT nextval('evidence_id_seq'),
    referral_id   BIGINT NOT NULL,
    incident_id   BIGINT,
    kind          VARCHAR NOT NULL, -- CCTV | STILL | DEMS | BWV | OTHER
    reference     VARCHAR,          -- DEMS or exhibit reference as given
    description   VARCHAR
);

CREATE TABLE incident_tactics (
    incident_id   BIGINT NOT NULL,
    tactic_code   VARCHAR NOT NULL,  -- from tactics; UNKNOWN when free text did not match
    raw_text      VARCHAR,           -- the text or code as given
    referral_id   BIGINT
);

CREATE SEQUENCE quarantine_id_seq START 1;
CREATE TABLE quarantine (
    quarantine_id      BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'),
    batch_id           BIGINT NOT NULL,
    source_name        VARCHAR,
    source_file        VARCHAR NOT NULL,
    row_number         BIGINT,          -- 1-based data row in the file (header is row 0)
    raw                JSON NOT NULL,   -- the row exactly as read
    reasons            JSON NOT NULL,   -- [{rule, field, message}]
    status             VARCHAR NOT NULL DEFAULT 'open',  -- open | resolved | exported
    created_at         TIMESTAMP NOT NULL,
    resolved_batch_id  BIGINT
);

CREATE SEQUENCE flag_id_seq START 1;
CREATE TABLE validation_flags (
    flag_id      BIGINT PRIMARY KEY DEFAULT nextval('flag_id_seq'),
    batch_id     BIGINT NOT NULL,
    referral_id  BIGINT,
    incident_id  BIGINT,
    row_number   BIGINT,
    rule_code    VARCHAR NOT NULL,
    severity     VARCHAR NOT NULL,   -- warning (stored and flagged); errors go to quarantine
    field        VARCHAR,
    message      VARCHAR NOT NULL
);

CREATE SEQUENCE audit_id_seq START 1;
CREATE TABLE audit_log (
    audit_id  BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    logged_at TIMESTAMP NOT NULL,
    os_user   VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,   -- ingest | validate | quarantine-export | export | migrate | load-sample ...
    object    VARCHAR,            -- file, table or product acted on
    details   JSON
);

CREATE TABLE reference_meta (
    name         VARCHAR PRIMARY KEY,  -- forces | tactics
    content_hash VARCHAR NOT NULL,
    loaded_at    TIMESTAMP NOT NULL
);
