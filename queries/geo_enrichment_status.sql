-- purpose: how much of the store is placed in the geography, and how many stated/location force mismatches
-- params: none
-- columns: stores_total, stores_enriched, incidents_total, incidents_enriched, incidents_force_mismatch, postcodes
SELECT
    (SELECT count(*) FROM stores)                                   AS stores_total,
    (SELECT count(*) FROM stores WHERE h3_r7 IS NOT NULL)           AS stores_enriched,
    (SELECT count(*) FROM incidents)                                AS incidents_total,
    (SELECT count(*) FROM incidents WHERE h3_r7 IS NOT NULL)        AS incidents_enriched,
    (SELECT count(*) FROM incidents WHERE force_mismatch)           AS incidents_force_mismatch,
    (SELECT count(*) FROM postcodes)                                AS postcodes
