-- purpose: the active analysts' decisions for one entity kind, re-applied as constraints on every run
-- params: entity VARCHAR - person or vehicle
-- columns: decision_id, decision, mention_a, mention_b, why, os_user, decided_at, origin
SELECT decision_id, decision, mention_a, mention_b, why, os_user, decided_at, origin
FROM link_decisions
WHERE entity = $entity AND active
ORDER BY decision_id
