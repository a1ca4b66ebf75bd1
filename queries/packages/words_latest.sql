-- purpose: the latest version of each section of the analyst's words for a package subject
-- params: subject_id VARCHAR - the package subject (GR..., RP..., RV...)
-- columns: section, version, body, sha256, author, saved_at
SELECT section, version, body, sha256, author, saved_at
FROM package_words
WHERE subject_id = $subject_id
QUALIFY row_number() OVER (PARTITION BY section ORDER BY version DESC) = 1
ORDER BY section
