-- purpose: disposal: clear the derived name and date of birth of every resolved person that held a disposed mention (_disp_entities), and of any inactive one showing a disposed name or date of birth (_disp_values); the linkage run that follows recomputes the active ones
-- params: none
-- columns: (updates resolved_persons)
UPDATE resolved_persons SET display_name = NULL, dob = NULL WHERE person_id IN (SELECT entity_id FROM _disp_entities WHERE entity = 'person') OR (status <> 'active' AND (display_name IN (SELECT value FROM _disp_values WHERE kind = 'name') OR dob::VARCHAR IN (SELECT value FROM _disp_values WHERE kind = 'dob')))
