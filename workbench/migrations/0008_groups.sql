-- Schema version 8: organised groups found in the co-offending network (workbench.linkage.groups,
-- docs/linkage.md "Networks and groups"). Each run of the groups stage is a row of linkage_runs (entity
-- 'group'); group ids are kept across runs by member overlap, and what changed is in linkage_events.

CREATE TABLE groups (
    group_id        VARCHAR PRIMARY KEY,    -- GR00001 ...: kept by the group across runs
    status          VARCHAR NOT NULL,       -- active, merged (into merged_into) or retired (not found any more)
    merged_into     VARCHAR,
    label           VARCHAR,                -- display text: its key player's name and size (raw, escaped when shown)
    members         INTEGER,                -- resolved persons in the group
    vehicles        INTEGER,                -- resolved vehicles seen at its incidents
    incidents       INTEGER,                -- incidents with at least two of its members (joint offending)
    forces          VARCHAR,                -- JSON list of force codes its incidents touch
    first_seen      TIMESTAMP,
    last_seen       TIMESTAMP,
    tactics         VARCHAR,                -- JSON {tactic_code: incidents} from incident_tactics
    modularity      DOUBLE,                 -- of the whole partition the group came from
    density         DOUBLE,                 -- edges among members / possible edges
    created_run_id  BIGINT,
    updated_run_id  BIGINT,
    run_id          BIGINT                  -- the run that last found it (= updated_run_id while active)
);

CREATE TABLE group_members (                -- the members of every active group, as of the latest run
    group_id        VARCHAR NOT NULL,
    person_id       VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,       -- key_player, broker or member (docs/linkage.md)
    degree          DOUBLE,                 -- normalised degree centrality in the co-offending network
    betweenness     DOUBLE,                 -- normalised betweenness centrality
    eigenvector     DOUBLE,                 -- eigenvector centrality (weighted)
    is_broker       BOOLEAN NOT NULL,
    is_key_player   BOOLEAN NOT NULL,
    incidents       INTEGER,                -- incidents of the person shared with another member
    run_id          BIGINT NOT NULL,
    PRIMARY KEY (group_id, person_id)
);

CREATE TABLE group_vehicles (               -- vehicles seen at the incidents of every active group
    group_id        VARCHAR NOT NULL,
    vehicle_id      VARCHAR NOT NULL,
    incidents       INTEGER,                -- its incidents with the group
    run_id          BIGINT NOT NULL,
    PRIMARY KEY (group_id, vehicle_id)
);
