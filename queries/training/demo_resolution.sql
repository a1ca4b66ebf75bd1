-- purpose: where the demonstration's resolution stands: subjects and vehicles resolved now, person mentions in the
--          store, mentions the latest person run resolved (fewer when referrals arrived since), analyst decisions
-- params: none
-- columns: persons, vehicles, person_mentions, resolved_mentions, decisions
SELECT
    (SELECT count(*) FROM resolved_persons WHERE status = 'active') AS persons,
    (SELECT count(*) FROM resolved_vehicles WHERE status = 'active') AS vehicles,
    (SELECT count(*) FROM person_mentions) AS person_mentions,
    coalesce((SELECT records FROM linkage_runs WHERE entity = 'person' ORDER BY run_id DESC LIMIT 1), 0)
        AS resolved_mentions,
    (SELECT count(*) FROM link_decisions WHERE active) AS decisions
