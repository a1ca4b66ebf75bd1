-- purpose: the resolved vehicles seen at a package's incidents (current referrals, latest vehicle_links): plate, description, incidents with the package, and cloned-plate flags raised on the plate
-- params: incident_ids BIGINT[] - the package's incidents
-- columns: vehicle_id, vrm, vrm_format, make, colour, incidents, mentions, clone_flags, flag_kinds
WITH seen AS (
    SELECT l.vehicle_id, count(DISTINCT v.incident_id) AS incidents, count(*) AS mentions
    FROM vehicle_mentions v
    JOIN referrals r ON r.referral_id = v.referral_id AND r.is_current
    JOIN vehicle_links l ON l.mention_id = v.mention_id
    WHERE v.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)) AND l.vehicle_id IS NOT NULL
    GROUP BY l.vehicle_id
),
flags AS (
    SELECT vrm, count(*) AS clone_flags, string_agg(DISTINCT kind, '; ' ORDER BY kind) AS flag_kinds
    FROM vehicle_flags GROUP BY vrm
)
SELECT s.vehicle_id, rv.vrm, rv.vrm_format, rv.make, rv.colour, s.incidents, s.mentions,
       coalesce(f.clone_flags, 0) AS clone_flags, coalesce(f.flag_kinds, '') AS flag_kinds
FROM seen s
LEFT JOIN resolved_vehicles rv ON rv.vehicle_id = s.vehicle_id
LEFT JOIN flags f ON f.vrm = rv.vrm
ORDER BY s.incidents DESC, s.vehicle_id
