-- purpose: rows in every canonical table, for the store summary printed by `make demo` and `workbench summary`
-- params: none
-- columns: table_name, row_count
SELECT 'forces' AS table_name, count(*) AS row_count FROM forces
UNION ALL SELECT 'retailers', count(*) FROM retailers
UNION ALL SELECT 'stores', count(*) FROM stores
UNION ALL SELECT 'referrals', count(*) FROM referrals
UNION ALL SELECT 'incidents', count(*) FROM incidents
UNION ALL SELECT 'referral_incidents', count(*) FROM referral_incidents
UNION ALL SELECT 'person_mentions', count(*) FROM person_mentions
UNION ALL SELECT 'vehicle_mentions', count(*) FROM vehicle_mentions
UNION ALL SELECT 'evidence_items', count(*) FROM evidence_items
UNION ALL SELECT 'incident_tactics', count(*) FROM incident_tactics
UNION ALL SELECT 'tactics', count(*) FROM tactics
UNION ALL SELECT 'ingest_batches', count(*) FROM ingest_batches
UNION ALL SELECT 'quarantine', count(*) FROM quarantine
UNION ALL SELECT 'audit_log', count(*) FROM audit_log
