-- purpose: background incidents of a training case: other incidents at the case's stores, not the group's, earliest first
-- params: store_ids VARCHAR[] - the stores of the group's incidents; exclude BIGINT[] - incident ids already in the case; per_store INTEGER - at most this many per store
-- columns: incident_id, store_id, occurred_at
SELECT incident_id, store_id, occurred_at FROM (
    SELECT i.incident_id, i.store_id, i.occurred_at,
           row_number() OVER (PARTITION BY i.store_id ORDER BY i.occurred_at, i.incident_id) AS n
    FROM incidents i
    WHERE list_contains($store_ids, i.store_id) AND NOT list_contains($exclude, i.incident_id)
      AND EXISTS (SELECT 1 FROM referral_incidents ri JOIN referrals r USING (referral_id)
                  WHERE ri.incident_id = i.incident_id AND r.is_current)
) WHERE n <= $per_store
ORDER BY occurred_at, incident_id
