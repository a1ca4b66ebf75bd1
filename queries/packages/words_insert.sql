-- purpose: save a new version of one section of the analyst's words (version = the section's last + 1)
-- params: subject_id VARCHAR - the subject; section VARCHAR - summary, assessment or recommendations; body VARCHAR - the text; sha256 VARCHAR - of the text; author VARCHAR - who; saved_at TIMESTAMP - when
-- columns: version
INSERT INTO package_words (subject_id, section, version, body, sha256, author, saved_at)
SELECT $subject_id, $section, coalesce(max(version), 0) + 1, $body, $sha256, $author, $saved_at
FROM package_words WHERE subject_id = $subject_id AND section = $section
RETURNING version
