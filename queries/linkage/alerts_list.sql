-- purpose: alerts, newest first, optionally only one status and one batch
-- params: status VARCHAR - open, acknowledged or NULL for all; batch_id BIGINT - one batch or NULL for all
-- columns: alert_id, raised_at, batch_id, status, entity, reason, mention_id, referral_id, source_ref, mention_text, entity_id, entity_label, match_weight, matched_by, matched_mention, group_id, details, acknowledged_at, acknowledged_by, ack_why
SELECT a.alert_id, a.raised_at, a.batch_id, a.status, a.entity, a.reason, a.mention_id, a.referral_id,
       r.source_ref, a.mention_text, a.entity_id, a.entity_label, a.match_weight, a.matched_by, a.matched_mention,
       a.group_id, a.details, a.acknowledged_at, a.acknowledged_by, a.ack_why
FROM alerts a LEFT JOIN referrals r ON r.referral_id = a.referral_id
WHERE ($status IS NULL OR a.status = $status) AND ($batch_id IS NULL OR a.batch_id = $batch_id)
ORDER BY a.status = 'open' DESC, a.alert_id DESC
