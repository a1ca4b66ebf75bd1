-- purpose: every saved version of the analyst's words for a package subject, newest first
-- params: subject_id VARCHAR - the package subject
-- columns: section, version, body, sha256, author, saved_at
SELECT section, version, body, sha256, author, saved_at
FROM package_words
WHERE subject_id = $subject_id
ORDER BY section, version DESC
