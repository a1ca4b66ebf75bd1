-- purpose: the tactic codes of incidents (all, or those listed) with each code's kind (method, target = goods, escalation), from current referrals' incident_tactics (free text already mapped at ingest; UNKNOWN when it matched no code)
-- params: incident_ids BIGINT[] - the incidents wanted; all BOOLEAN - true for every incident
-- columns: incident_id, tactic_code, kind
SELECT DISTINCT t.incident_id, t.tactic_code, coalesce(v.kind, 'unknown') AS kind
FROM incident_tactics t
LEFT JOIN tactics v ON v.tactic_code = t.tactic_code
LEFT JOIN referrals r ON r.referral_id = t.referral_id
WHERE (t.referral_id IS NULL OR r.is_current)
  AND ($all OR t.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)))
ORDER BY t.incident_id, t.tactic_code
