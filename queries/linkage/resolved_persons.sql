-- purpose: every resolved person ever allocated (active, merged, retired), for stable ids across runs
-- params: none
-- columns: person_id, status, merged_into, display_name, dob, mentions, first_seen, last_seen, created_run_id, updated_run_id
SELECT person_id, status, merged_into, display_name, dob, mentions, first_seen, last_seen, created_run_id, updated_run_id
FROM resolved_persons ORDER BY person_id
