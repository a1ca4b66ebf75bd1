-- purpose: per tactic code (controlled vocabulary, UNKNOWN left out), where and when it was first seen: the earliest timed incident using it (its store, town and force area) and how widely it is used (incidents, stores, forces), from current referrals' incident_tactics (workbench.crossborder.trends)
-- params: none
-- columns: tactic_code, kind, name, first_at, first_incident_id, first_store_id, first_store_name, first_town, first_force_code, first_force_name, incidents, stores, forces
WITH used AS (
    SELECT DISTINCT t.incident_id, t.tactic_code
    FROM incident_tactics t
    LEFT JOIN referrals r ON r.referral_id = t.referral_id
    WHERE (t.referral_id IS NULL OR r.is_current) AND t.tactic_code <> 'UNKNOWN'
),
placed AS (
    SELECT u.tactic_code, i.incident_id, i.occurred_at, i.store_id, s.name AS store_name, s.town,
           coalesce(s.force_code, i.force_code) AS force_code
    FROM used u
    JOIN incidents i ON i.incident_id = u.incident_id
    LEFT JOIN stores s ON s.store_id = i.store_id
    WHERE i.occurred_at IS NOT NULL
),
firsts AS (
    SELECT tactic_code,
           min(occurred_at) AS first_at,
           arg_min(incident_id, (occurred_at, incident_id)) AS first_incident_id,
           count(DISTINCT incident_id) AS incidents,
           count(DISTINCT store_id) AS stores,
           count(DISTINCT force_code) AS forces
    FROM placed
    GROUP BY tactic_code
)
SELECT f.tactic_code, coalesce(v.kind, 'unknown') AS kind, v.name, f.first_at, f.first_incident_id,
       p.store_id AS first_store_id, p.store_name AS first_store_name, p.town AS first_town,
       p.force_code AS first_force_code, fo.name AS first_force_name, f.incidents, f.stores, f.forces
FROM firsts f
JOIN placed p ON p.tactic_code = f.tactic_code AND p.incident_id = f.first_incident_id
LEFT JOIN tactics v ON v.tactic_code = f.tactic_code
LEFT JOIN forces fo ON fo.force_code = p.force_code
ORDER BY f.first_at, f.tactic_code
