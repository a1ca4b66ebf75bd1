-- Schema version 7: entity resolution (workbench.linkage, docs/linkage.md). Runs of the person and vehicle
-- resolution, the resolved persons and vehicles with ids kept stable across runs, which mention belongs to
-- which entity, what changed between runs (merges, splits), analysts' decisions, and cloned-plate flags.

CREATE TABLE linkage_runs (
    run_id          BIGINT PRIMARY KEY,     -- 1, 2, 3 ... in order
    entity          VARCHAR NOT NULL,       -- person or vehicle
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    os_user         VARCHAR,
    settings_version INTEGER,               -- `version` of linkage.yaml
    settings_sha256 VARCHAR,                -- hash of the effective settings
    records         BIGINT,                 -- mentions resolved
    entities        BIGINT,                 -- resolved persons / vehicles after the run
    details         VARCHAR,                -- JSON: thresholds, counts, training log
    model_json      VARCHAR                 -- the trained Splink model (persons), for explanations
);

CREATE TABLE resolved_persons (
    person_id       VARCHAR PRIMARY KEY,    -- RP0000001 ...: kept by the person across runs
    status          VARCHAR NOT NULL,       -- active, merged (into merged_into) or retired (no mentions left)
    merged_into     VARCHAR,
    display_name    VARCHAR,                -- most frequent written name of its mentions
    dob             DATE,                   -- most frequent date of birth given
    mentions        INTEGER,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    created_run_id  BIGINT,
    updated_run_id  BIGINT
);

CREATE TABLE person_links (                 -- cluster membership: the current person of every person mention
    mention_id      BIGINT PRIMARY KEY,
    person_id       VARCHAR NOT NULL,
    run_id          BIGINT NOT NULL,
    match_weight    DOUBLE,                 -- strongest model weight joining it to another member (NULL alone/confirmed)
    joined_by       VARCHAR NOT NULL        -- model, confirmed or singleton
);

CREATE TABLE resolved_vehicles (
    vehicle_id      VARCHAR PRIMARY KEY,    -- RV0000001 ...: kept across runs
    status          VARCHAR NOT NULL,       -- active, merged or retired
    merged_into     VARCHAR,
    vrm             VARCHAR,                -- normalised registration (upper case, no spaces)
    vrm_format      VARCHAR,                -- current, prefix, suffix, dateless, northern_ireland, foreign_unknown
    make            VARCHAR,
    colour          VARCHAR,
    mentions        INTEGER,
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    created_run_id  BIGINT,
    updated_run_id  BIGINT
);

CREATE TABLE vehicle_links (                -- the current vehicle of every vehicle mention
    mention_id      BIGINT PRIMARY KEY,
    vehicle_id      VARCHAR,                -- NULL: a partial plate matching no vehicle, or several
    run_id          BIGINT NOT NULL,
    joined_by       VARCHAR NOT NULL,       -- exact, confusable, partial, confirmed, unresolved
    candidates      VARCHAR                 -- JSON list of vehicle ids a partial plate could be
);

CREATE TABLE vehicle_flags (
    flag_id         BIGINT PRIMARY KEY,
    run_id          BIGINT NOT NULL,
    vrm             VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,       -- impossible_travel or description_conflict
    mention_a       BIGINT,
    mention_b       BIGINT,
    evidence        VARCHAR NOT NULL        -- JSON: places, times, km, hours, implied speed / the two descriptions
);

CREATE TABLE linkage_events (               -- what a run changed: new, merged, split, retired entities
    event_id        BIGINT PRIMARY KEY,
    run_id          BIGINT NOT NULL,
    entity          VARCHAR NOT NULL,       -- person or vehicle
    event           VARCHAR NOT NULL,       -- new, merge, split, retired
    entity_id       VARCHAR NOT NULL,       -- the id that survives (merge), the new id (split, new)
    other_ids       VARCHAR,                -- JSON list: ids merged into it / the id it split from
    mentions        INTEGER
);

CREATE TABLE link_decisions (               -- analysts' decisions, re-applied as constraints on every run
    decision_id     BIGINT PRIMARY KEY,
    entity          VARCHAR NOT NULL,       -- person or vehicle
    decision        VARCHAR NOT NULL,       -- confirm (must link) or reject (never in one cluster)
    mention_a       BIGINT NOT NULL,
    mention_b       BIGINT NOT NULL,
    why             VARCHAR NOT NULL,
    os_user         VARCHAR NOT NULL,
    decided_at      TIMESTAMP NOT NULL,
    origin          VARCHAR NOT NULL,       -- pair, split or merge (how the analyst expressed it)
    active          BOOLEAN NOT NULL DEFAULT true
);
