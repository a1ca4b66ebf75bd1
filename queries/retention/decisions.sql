-- purpose: every retain/dispose decision, newest first (why is NULL once its referral was disposed: why_sha256 stays)
-- params: none
-- columns: decision_id, referral_id, decision, why, why_sha256, purpose, review_due, next_review, decided_by, decided_at, status, disposal_id
SELECT decision_id, referral_id, decision, why, why_sha256, purpose, review_due, next_review, decided_by, decided_at,
       status, disposal_id
FROM retention_decisions ORDER BY decision_id DESC
