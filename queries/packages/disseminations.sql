-- purpose: the dissemination log of a subject's packages ('' for every subject), latest first
-- params: subject_id VARCHAR - the subject, or '' for all
-- columns: dissemination_id, subject_id, version, force_code, role, handling_code, handling_conditions, sent_at, sent_by, purpose
SELECT dissemination_id, subject_id, version, force_code, role, handling_code, handling_conditions, sent_at, sent_by,
       purpose
FROM package_disseminations
WHERE $subject_id = '' OR subject_id = $subject_id
ORDER BY dissemination_id DESC
