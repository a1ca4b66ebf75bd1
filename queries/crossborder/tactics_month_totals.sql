-- purpose: every timed incident per calendar month nationally (with a current referral or none), the denominator of the share of incidents using a tactic (workbench.crossborder.trends)
-- params: none
-- columns: month, incidents
SELECT CAST(date_trunc('month', occurred_at) AS DATE) AS month, count(*) AS incidents
FROM incidents
WHERE occurred_at IS NOT NULL
GROUP BY ALL
ORDER BY month
