-- purpose: disposal: analysts' link decisions about a disposed mention (_disp_pm, _disp_vm)
-- params: none
-- columns: (deletes link_decisions rows)
DELETE FROM link_decisions WHERE mention_a IN (SELECT mention_id FROM _disp_pm UNION ALL SELECT mention_id FROM _disp_vm) OR mention_b IN (SELECT mention_id FROM _disp_pm UNION ALL SELECT mention_id FROM _disp_vm)
