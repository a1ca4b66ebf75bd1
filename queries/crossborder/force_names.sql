-- purpose: force codes and names
-- params: none
-- columns: force_code, name
SELECT force_code, name FROM forces ORDER BY force_code
