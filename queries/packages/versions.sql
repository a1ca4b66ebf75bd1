-- purpose: the package versions built for a subject ('' for every subject), newest first, with their state and who reviewed and approved them
-- params: subject_id VARCHAR - the subject, or '' for all
-- columns: subject_id, version, content_sha256, lead_force, state, first_built_at, first_built_by, reviewed_by, reviewed_at, approved_by, approved_at
SELECT subject_id, version, content_sha256, lead_force, state, first_built_at, first_built_by, reviewed_by,
       reviewed_at, approved_by, approved_at
FROM package_versions
WHERE $subject_id = '' OR subject_id = $subject_id
ORDER BY subject_id, version DESC
