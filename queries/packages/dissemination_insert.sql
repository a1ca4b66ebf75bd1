-- purpose: log that a package version went to a force (lead or copy), when, by whom, under which handling code and why
-- params: subject_id VARCHAR - the subject; version INTEGER - the version; force_code VARCHAR - receiving force; role VARCHAR - lead or copy; handling_code VARCHAR - P or C; handling_conditions VARCHAR - conditions when C; sent_at TIMESTAMP - when; sent_by VARCHAR - who; purpose VARCHAR - why
-- columns: dissemination_id
INSERT INTO package_disseminations (dissemination_id, subject_id, version, force_code, role, handling_code,
                                    handling_conditions, sent_at, sent_by, purpose)
SELECT coalesce(max(dissemination_id), 0) + 1, $subject_id, $version, $force_code, $role, $handling_code,
       $handling_conditions, $sent_at, $sent_by, $purpose
FROM package_disseminations
RETURNING dissemination_id
