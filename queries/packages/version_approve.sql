-- purpose: mark a package version approved (by whom, when)
-- params: subject_id VARCHAR - the subject; version INTEGER - the version; who VARCHAR - approver; at TIMESTAMP - when
-- columns: version
UPDATE package_versions SET state = 'approved', approved_by = $who, approved_at = $at
WHERE subject_id = $subject_id AND version = $version
RETURNING version
