-- purpose: incidents (all, or those listed) with their store, chain, sector, place (the store's when the incident has none; force = the store's force area, else the force stated), people, juveniles, vehicles and current referrals, for tactic signatures and series (workbench.crossborder)
-- params: incident_ids BIGINT[] - the incidents wanted; all BOOLEAN - true for every incident (incident_ids is then ignored)
-- columns: incident_id, crime_number, force_code, stated_force_code, force_name, store_id, store_name, town, chain, chain_name, sector, occurred_at, offence_type, value_gbp, offenders_count, violence, latitude, longitude, persons, juveniles, vehicles, referrals
WITH wanted AS (
    SELECT incident_id FROM incidents WHERE $all
    UNION
    SELECT CAST(unnest($incident_ids) AS BIGINT) AS incident_id
),
people AS (
    SELECT m.incident_id, count(DISTINCT coalesce(l.person_id, CAST(m.mention_id AS VARCHAR))) AS persons,
           count(DISTINCT CASE WHEN m.is_juvenile THEN coalesce(l.person_id, CAST(m.mention_id AS VARCHAR)) END) AS juveniles
    FROM person_mentions m
    JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
    LEFT JOIN person_links l ON l.mention_id = m.mention_id
    WHERE m.incident_id IN (SELECT incident_id FROM wanted)
    GROUP BY m.incident_id
),
cars AS (
    SELECT v.incident_id, count(DISTINCT coalesce(l.vehicle_id, v.vrm_norm, CAST(v.mention_id AS VARCHAR))) AS vehicles
    FROM vehicle_mentions v
    JOIN referrals r ON r.referral_id = v.referral_id AND r.is_current
    LEFT JOIN vehicle_links l ON l.mention_id = v.mention_id
    WHERE v.incident_id IN (SELECT incident_id FROM wanted)
    GROUP BY v.incident_id
),
refs AS (
    SELECT ri.incident_id, count(DISTINCT ri.referral_id) AS referrals
    FROM referral_incidents ri
    JOIN referrals r ON r.referral_id = ri.referral_id AND r.is_current
    WHERE ri.incident_id IN (SELECT incident_id FROM wanted)
    GROUP BY ri.incident_id
)
SELECT i.incident_id, i.crime_number, coalesce(s.force_code, i.force_code) AS force_code,
       i.force_code AS stated_force_code, f.name AS force_name, i.store_id, s.name AS store_name, s.town,
       s.retailer_id AS chain, rt.name AS chain_name, rt.sector, i.occurred_at, i.offence_type,
       CAST(i.value_gbp AS DOUBLE) AS value_gbp, i.offenders_count, i.violence,
       coalesce(i.latitude, s.latitude) AS latitude, coalesce(i.longitude, s.longitude) AS longitude,
       coalesce(p.persons, 0) AS persons, coalesce(p.juveniles, 0) AS juveniles, coalesce(c.vehicles, 0) AS vehicles,
       coalesce(x.referrals, 0) AS referrals
FROM incidents i
LEFT JOIN stores s ON s.store_id = i.store_id
LEFT JOIN retailers rt ON rt.retailer_id = s.retailer_id
LEFT JOIN forces f ON f.force_code = coalesce(s.force_code, i.force_code)
LEFT JOIN people p ON p.incident_id = i.incident_id
LEFT JOIN cars c ON c.incident_id = i.incident_id
LEFT JOIN refs x ON x.incident_id = i.incident_id
WHERE i.incident_id IN (SELECT incident_id FROM wanted)
ORDER BY i.incident_id
