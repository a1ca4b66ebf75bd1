-- Schema version 9: alerts (workbench.linkage.alerts, docs/linkage.md "Alerts"). A new referral whose person
-- or vehicle mention matches a known group member, a prolific offender or a flagged vehicle raises an alert:
-- who or what matched, how strongly, the new mention, the existing entity, why, and whether an analyst has
-- acknowledged it. Matching uses the stored model and vehicle keys: nothing is retrained or re-clustered.

CREATE TABLE alerts (
    alert_id         BIGINT PRIMARY KEY,     -- 1, 2, 3 ... in the order raised
    raised_at        TIMESTAMP NOT NULL,
    batch_id         BIGINT,                 -- the ingest batch that brought the new mention
    entity           VARCHAR NOT NULL,       -- person or vehicle
    reason           VARCHAR NOT NULL,       -- group_member, prolific_offender, flagged_vehicle, group_vehicle
                                             -- (several joined by ', ')
    mention_id       BIGINT NOT NULL,        -- the new person or vehicle mention
    referral_id      BIGINT,                 -- its referral
    mention_text     VARCHAR,                -- the name or VRM as written (raw: escaped when shown)
    entity_id        VARCHAR NOT NULL,       -- the resolved person (RP...) or vehicle (RV...) it matched
    entity_label     VARCHAR,                -- that entity's display name or VRM (raw)
    match_weight     DOUBLE,                 -- persons: the model's match weight (log2 Bayes factor); vehicles NULL
    matched_by       VARCHAR NOT NULL,       -- model, exact, confusable or partial
    matched_mention  BIGINT,                 -- the existing mention it scored best against (persons)
    group_id         VARCHAR,                -- the group(s) of the entity, when a reason is a group
    details          VARCHAR,                -- JSON: incidents, flags, groups, run ids
    status           VARCHAR NOT NULL,       -- open or acknowledged
    acknowledged_at  TIMESTAMP,
    acknowledged_by  VARCHAR,
    ack_why          VARCHAR,
    person_run_id    BIGINT,                 -- the linkage runs matched against
    vehicle_run_id   BIGINT,
    UNIQUE (mention_id, entity, entity_id)   -- a rescan of a batch never raises an alert twice
);
