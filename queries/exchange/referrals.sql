-- purpose: the referrals table (every version) for the Parquet exchange export, with two derived partition keys:
--          the force of the incidents it describes and the month it was received (workbench.exchange; the
--          configured withheld columns are dropped by the caller)
-- params: none
-- columns: referral_id, batch_id, source_name, source_type, source_ref, source_row, version, is_current, superseded_by, received_at, referrer, grading_scheme, source_evaluation, intelligence_assessment, handling_code, handling_conditions, content_hash, review_due, review_basis, force_code, month
SELECT r.referral_id, r.batch_id, r.source_name, r.source_type, r.source_ref, r.source_row, r.version, r.is_current,
       r.superseded_by, r.received_at, r.referrer, r.grading_scheme, r.source_evaluation, r.intelligence_assessment,
       r.handling_code, r.handling_conditions, r.content_hash, r.review_due, r.review_basis,
       f.force_code,                                    -- derived: lowest force code of its incidents (NULL: none)
       strftime(r.received_at, '%Y-%m') AS month         -- derived: YYYY-MM of received_at
FROM referrals r
LEFT JOIN (SELECT ri.referral_id, min(i.force_code) AS force_code
           FROM referral_incidents ri JOIN incidents i ON i.incident_id = ri.incident_id
           GROUP BY ri.referral_id) f ON f.referral_id = r.referral_id
ORDER BY r.referral_id
