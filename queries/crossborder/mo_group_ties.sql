-- purpose: every active group's series in one pass (MO linkage labels): the incidents where a current referral mentions one of the group's members (latest person_links) or one of its vehicles that no other group also uses (as crossborder/group_incidents for one group)
-- params: none
-- columns: group_id, incident_id
SELECT DISTINCT g.group_id, m.incident_id
FROM groups gr
JOIN group_members g ON g.group_id = gr.group_id
JOIN person_links l ON l.person_id = g.person_id
JOIN person_mentions m ON m.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
WHERE gr.status = 'active' AND m.incident_id IS NOT NULL
UNION
SELECT DISTINCT g.group_id, v.incident_id
FROM groups gr
JOIN group_vehicles g ON g.group_id = gr.group_id
JOIN vehicle_links l ON l.vehicle_id = g.vehicle_id
JOIN vehicle_mentions v ON v.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = v.referral_id AND r.is_current
WHERE gr.status = 'active' AND v.incident_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM group_vehicles o WHERE o.vehicle_id = g.vehicle_id AND o.group_id <> g.group_id)
ORDER BY group_id, incident_id
