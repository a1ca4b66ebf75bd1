-- purpose: disposal: the person links of the disposed mentions (_disp_pm)
-- params: none
-- columns: (deletes person_links rows)
DELETE FROM person_links WHERE mention_id IN (SELECT mention_id FROM _disp_pm)
