-- purpose: the person mentions of a training case's referrals, with the person the source store resolved each to
-- params: referral_ids BIGINT[] - the case's referrals
-- columns: every column of person_mentions, source_person_id
SELECT m.*, l.person_id AS source_person_id
FROM person_mentions m LEFT JOIN person_links l USING (mention_id)
WHERE list_contains($referral_ids, m.referral_id)
ORDER BY m.mention_id
