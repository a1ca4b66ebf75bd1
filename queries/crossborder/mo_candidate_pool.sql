-- purpose: the incidents worth scoring against a query (MO linkage candidates): those outside the excluded forces and incidents that share at least one tactic code with the query, most shared codes first, then most recent (the model then scores only these)
-- params: codes VARCHAR[] - the query's tactic codes; exclude_ids BIGINT[] - the query's own incidents; exclude_forces VARCHAR[] - forces left out (the query's, for other-force candidates, or an empty list); pool_limit BIGINT - at most this many
-- columns: incident_id, shared_codes
WITH hits AS (
    SELECT t.incident_id, count(DISTINCT t.tactic_code) AS shared_codes
    FROM incident_tactics t
    LEFT JOIN referrals r ON r.referral_id = t.referral_id
    WHERE (t.referral_id IS NULL OR r.is_current)
      AND t.tactic_code IN (SELECT unnest($codes))
    GROUP BY t.incident_id
)
SELECT h.incident_id, h.shared_codes
FROM hits h
JOIN incidents i ON i.incident_id = h.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
WHERE h.incident_id NOT IN (SELECT CAST(unnest($exclude_ids) AS BIGINT))
  AND coalesce(coalesce(s.force_code, i.force_code), '') NOT IN (SELECT unnest($exclude_forces))
ORDER BY h.shared_codes DESC, i.occurred_at DESC NULLS LAST, h.incident_id
LIMIT $pool_limit
