-- purpose: one row per referral (all versions of one source reference together, keyed by the current version): the facts its MoPI review date is computed from, and its latest retain/dispose decision
-- params: serious VARCHAR[] - offence types that put a referral in MoPI group 2
-- columns: referral_id, chain_key, versions, source_name, received_at, last_occurred, violence, serious, detained, group_member, source_evaluation, intelligence_assessment, handling_code, review_due, decision_id, decision, decided_at
WITH chain AS (
    SELECT referral_id, source_name, is_current, received_at, source_evaluation, intelligence_assessment,
           handling_code, review_due,
           coalesce(source_name || chr(31) || source_ref, 'id:' || referral_id::VARCHAR) AS chain_key
    FROM referrals
),
cur AS (
    SELECT chain_key, arg_max(referral_id, CASE WHEN is_current THEN 1 ELSE 0 END * 1e15 + referral_id) AS referral_id,
           count(*) AS versions, max(received_at) AS received_at
    FROM chain GROUP BY chain_key
),
inc AS (
    SELECT c.chain_key, max(i.occurred_at) AS last_occurred, bool_or(coalesce(i.violence, false)) AS violence,
           bool_or(list_contains($serious, lower(i.offence_type))) AS serious,
           bool_or(coalesce(i.detained, false)) AS detained
    FROM chain c JOIN referral_incidents ri ON ri.referral_id = c.referral_id
    JOIN incidents i ON i.incident_id = ri.incident_id
    GROUP BY c.chain_key
),
mem AS (
    SELECT DISTINCT c.chain_key
    FROM chain c JOIN person_mentions pm ON pm.referral_id = c.referral_id
    JOIN person_links pl ON pl.mention_id = pm.mention_id
    JOIN group_members gm ON gm.person_id = pl.person_id
    JOIN groups g ON g.group_id = gm.group_id AND g.status = 'active'
),
dec AS (
    SELECT c.chain_key, arg_max(d.decision_id, d.decision_id) AS decision_id
    FROM retention_decisions d JOIN chain c ON c.referral_id = d.referral_id
    WHERE d.status = 'open'
    GROUP BY c.chain_key
)
SELECT cur.referral_id, cur.chain_key, cur.versions, r.source_name, cur.received_at, inc.last_occurred,
       coalesce(inc.violence, false) AS violence, coalesce(inc.serious, false) AS serious,
       coalesce(inc.detained, false) AS detained, mem.chain_key IS NOT NULL AS group_member,
       r.source_evaluation, r.intelligence_assessment, r.handling_code, r.review_due,
       d.decision_id, d.decision, d.decided_at
FROM cur
JOIN chain r ON r.referral_id = cur.referral_id
LEFT JOIN inc ON inc.chain_key = cur.chain_key
LEFT JOIN mem ON mem.chain_key = cur.chain_key
LEFT JOIN dec ON dec.chain_key = cur.chain_key
LEFT JOIN retention_decisions d ON d.decision_id = dec.decision_id
ORDER BY cur.referral_id
