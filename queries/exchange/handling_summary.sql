-- purpose: referrals (every version) by 3x5x2 handling code, for the handling note of a Parquet exchange export
-- params: none
-- columns: handling_code, referrals, with_conditions
SELECT coalesce(handling_code, '') AS handling_code, count(*) AS referrals,
       count(*) FILTER (WHERE nullif(trim(handling_conditions), '') IS NOT NULL) AS with_conditions
FROM referrals
GROUP BY 1
ORDER BY 1
