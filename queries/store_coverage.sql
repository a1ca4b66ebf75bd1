-- purpose: headline coverage of the store: forces, retailers, stores, incident date range, referrals by source type
-- params: none
-- columns: forces_with_incidents, location_forces_with_incidents, retailers, stores, first_incident, last_incident, referrals_current, referrals_from_retailers, referrals_from_forces
SELECT
    (SELECT count(DISTINCT force_code) FROM incidents WHERE force_code IS NOT NULL)              AS forces_with_incidents,
    (SELECT count(DISTINCT s.force_code) FROM incidents i JOIN stores s USING (store_id))          AS location_forces_with_incidents,
    (SELECT count(*) FROM retailers)                                                              AS retailers,
    (SELECT count(*) FROM stores)                                                                 AS stores,
    (SELECT min(occurred_at) FROM incidents)                                                      AS first_incident,
    (SELECT max(occurred_at) FROM incidents)                                                      AS last_incident,
    (SELECT count(*) FROM referrals WHERE is_current)                                             AS referrals_current,
    (SELECT count(*) FROM referrals WHERE is_current AND source_type = 'retailer')                AS referrals_from_retailers,
    (SELECT count(*) FROM referrals WHERE is_current AND source_type = 'force')                   AS referrals_from_forces
