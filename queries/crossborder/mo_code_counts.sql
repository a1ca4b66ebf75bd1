-- purpose: how many incident tactic rows carry each of the given codes (MO linkage candidates: the rarest of a query's codes drives the candidate pool)
-- params: codes VARCHAR[] - the tactic codes
-- columns: tactic_code, rows
SELECT tactic_code, count(*) AS rows FROM incident_tactics WHERE list_contains($codes, tactic_code)
GROUP BY tactic_code ORDER BY rows, tactic_code
