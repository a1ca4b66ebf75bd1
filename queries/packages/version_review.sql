-- purpose: mark a package version reviewed (by whom, when)
-- params: subject_id VARCHAR - the subject; version INTEGER - the version; who VARCHAR - reviewer; at TIMESTAMP - when
-- columns: version
UPDATE package_versions SET state = 'reviewed', reviewed_by = $who, reviewed_at = $at
WHERE subject_id = $subject_id AND version = $version
RETURNING version
