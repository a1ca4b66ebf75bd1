-- purpose: the subjects of a package: resolved persons (those listed) with name, aliases, date of birth, role in the group (when a group is given), juvenile flag, mentions, incidents and first/last seen, from current referrals and the latest person_links
-- params: person_ids VARCHAR[] - the resolved persons; group_id VARCHAR - the group whose roles to show ('' for none)
-- columns: person_id, display_name, names_written (VARCHAR[]: every distinct spelling, most mentioned first, then A-Z), aliases (VARCHAR[], same order), dob, role, is_key_player, is_broker, juvenile, mentions, incidents, first_seen, last_seen
WITH wanted AS (SELECT CAST(unnest($person_ids) AS VARCHAR) AS person_id),
mentioned AS (
    SELECT l.person_id, m.full_name, m.alias, coalesce(m.is_juvenile, false) AS is_juvenile, m.incident_id
    FROM person_links l
    JOIN person_mentions m ON m.mention_id = l.mention_id
    JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
    WHERE l.person_id IN (SELECT person_id FROM wanted)
),
spellings AS (
    SELECT person_id, list(full_name ORDER BY n DESC, full_name) AS names_written
    FROM (SELECT person_id, full_name, count(*) AS n FROM mentioned WHERE full_name IS NOT NULL
          GROUP BY person_id, full_name)
    GROUP BY person_id
),
aka AS (
    SELECT person_id, list(alias ORDER BY n DESC, alias) AS aliases
    FROM (SELECT person_id, alias, count(*) AS n FROM mentioned WHERE alias IS NOT NULL GROUP BY person_id, alias)
    GROUP BY person_id
),
seen AS (
    SELECT person_id, bool_or(is_juvenile) AS juvenile, count(*) AS mentions, count(DISTINCT incident_id) AS incidents
    FROM mentioned GROUP BY person_id
)
SELECT w.person_id, p.display_name, sp.names_written, a.aliases, CAST(p.dob AS DATE) AS dob,
       coalesce(g.role, '') AS role, coalesce(g.is_key_player, false) AS is_key_player,
       coalesce(g.is_broker, false) AS is_broker, coalesce(s.juvenile, false) AS juvenile,
       coalesce(s.mentions, 0) AS mentions, coalesce(s.incidents, 0) AS incidents, p.first_seen, p.last_seen
FROM wanted w
LEFT JOIN resolved_persons p ON p.person_id = w.person_id
LEFT JOIN seen s ON s.person_id = w.person_id
LEFT JOIN spellings sp ON sp.person_id = w.person_id
LEFT JOIN aka a ON a.person_id = w.person_id
LEFT JOIN group_members g ON g.person_id = w.person_id AND g.group_id = $group_id
ORDER BY coalesce(g.is_key_player, false) DESC, coalesce(s.incidents, 0) DESC, w.person_id
