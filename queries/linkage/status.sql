-- purpose: the latest linkage run of each entity kind with the counts of resolved entities, links and decisions
-- params: none
-- columns: entity, run_id, finished_at, records, entities, settings_version, decisions, flags
SELECT r.entity, r.run_id, r.finished_at, r.records, r.entities, r.settings_version,
       (SELECT count(*) FROM link_decisions d WHERE d.entity = r.entity AND d.active) AS decisions,
       CASE WHEN r.entity = 'vehicle' THEN (SELECT count(*) FROM vehicle_flags f WHERE f.run_id = r.run_id) END AS flags
FROM linkage_runs r
WHERE r.run_id = (SELECT max(run_id) FROM linkage_runs x WHERE x.entity = r.entity)
ORDER BY r.entity
