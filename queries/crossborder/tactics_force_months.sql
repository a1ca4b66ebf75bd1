-- purpose: incidents using each tactic code per force area (the store's, else the force stated) and calendar month, from current referrals' incident_tactics (UNKNOWN left out; untimed incidents left out), for the spread of tactics across forces month by month (workbench.crossborder.trends)
-- params: none
-- columns: tactic_code, force_code, force_name, month, incidents, first_at
WITH used AS (
    SELECT DISTINCT t.incident_id, t.tactic_code
    FROM incident_tactics t
    LEFT JOIN referrals r ON r.referral_id = t.referral_id
    WHERE (t.referral_id IS NULL OR r.is_current) AND t.tactic_code <> 'UNKNOWN'
)
SELECT u.tactic_code, coalesce(s.force_code, i.force_code) AS force_code, fo.name AS force_name,
       CAST(date_trunc('month', i.occurred_at) AS DATE) AS month, count(DISTINCT i.incident_id) AS incidents,
       min(i.occurred_at) AS first_at
FROM used u
JOIN incidents i ON i.incident_id = u.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
LEFT JOIN forces fo ON fo.force_code = coalesce(s.force_code, i.force_code)
WHERE i.occurred_at IS NOT NULL
GROUP BY ALL
ORDER BY u.tactic_code, month, force_code
