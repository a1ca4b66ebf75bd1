-- purpose: (re)build hotspot_cube, the pre-aggregated incident counts the hotspot explorer filters: one row per day x force area x H3 r7/r8 cell x LSOA x retailer x offence type x tactic ('' = all tactics, so an incident with two tactics is counted once in the '' rows), ordered by tactic then day so filters skip row groups
-- params: none
-- columns: (creates table hotspot_cube: day, force_code, h3_r7, h3_r8, lsoa_code, retailer_id, offence_type, tactic_code, incidents, value_gbp)
CREATE OR REPLACE TABLE hotspot_cube AS
WITH ev AS (
    SELECT i.incident_id,
           CAST(i.occurred_at AS DATE) AS day,
           coalesce(i.location_force_code, s.location_force_code, s.force_code, i.force_code) AS force_code,
           coalesce(i.h3_r7, s.h3_r7) AS h3_r7,
           coalesce(i.h3_r8, s.h3_r8) AS h3_r8,
           coalesce(i.lsoa_code, s.lsoa_code) AS lsoa_code,
           coalesce(s.retailer_id, '') AS retailer_id,
           coalesce(i.offence_type, '') AS offence_type,
           CAST(i.value_gbp AS DOUBLE) AS value_gbp
    FROM incidents i
    LEFT JOIN stores s ON s.store_id = i.store_id
    WHERE i.occurred_at IS NOT NULL AND coalesce(i.h3_r8, s.h3_r8) IS NOT NULL
),
tagged AS (
    SELECT ev.*, '' AS tactic_code FROM ev
    UNION ALL
    SELECT ev.*, t.tactic_code FROM ev JOIN (SELECT DISTINCT incident_id, tactic_code FROM incident_tactics) t
        ON t.incident_id = ev.incident_id
)
SELECT day, force_code, h3_r7, h3_r8, lsoa_code, retailer_id, offence_type, tactic_code,
       count(*) AS incidents, sum(value_gbp) AS value_gbp
FROM tagged
GROUP BY ALL
ORDER BY tactic_code, day
