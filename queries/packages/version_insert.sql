-- purpose: record a new package content for a subject as its next version, in state draft
-- params: subject_id VARCHAR - the subject; content_sha256 VARCHAR - the content's hash; lead_force VARCHAR - force addressed; built_at TIMESTAMP - when; built_by VARCHAR - who
-- columns: version
INSERT INTO package_versions (subject_id, version, content_sha256, lead_force, state, first_built_at, first_built_by)
SELECT $subject_id, coalesce(max(version), 0) + 1, $content_sha256, $lead_force, 'draft', $built_at, $built_by
FROM package_versions WHERE subject_id = $subject_id
RETURNING version
