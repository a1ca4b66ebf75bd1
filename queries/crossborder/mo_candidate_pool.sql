-- purpose: the incidents worth scoring against a query (MO linkage candidates): those with the query's rarest characteristic code (driver), ranked by how many of its characteristic codes they share, then the newest ids first (the model then scores only these; forces and current referrals are applied when they are loaded)
-- params: driver VARCHAR - the rarest of the codes; codes VARCHAR[] - the query's characteristic tactic codes; pool_limit BIGINT - at most this many
-- columns: incident_id, shared_codes
WITH driven AS (SELECT incident_id FROM incident_tactics WHERE tactic_code = $driver)
SELECT t.incident_id, count(DISTINCT t.tactic_code) AS shared_codes
FROM incident_tactics t
SEMI JOIN driven d ON d.incident_id = t.incident_id
WHERE list_contains($codes, t.tactic_code)
GROUP BY t.incident_id
ORDER BY shared_codes DESC, t.incident_id DESC
LIMIT $pool_limit
