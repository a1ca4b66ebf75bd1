-- purpose: what entity resolution has found, for `workbench summary`: active resolved persons and vehicles,
--          VRMs with a cloned-plate flag in the latest vehicle run, and the latest run of each kind
-- params: none
-- columns: persons, vehicles, cloned_plates, person_run_id, vehicle_run_id
SELECT (SELECT count(*) FROM resolved_persons WHERE status = 'active') AS persons,
       (SELECT count(*) FROM resolved_vehicles WHERE status = 'active') AS vehicles,
       (SELECT count(DISTINCT vrm) FROM vehicle_flags
         WHERE run_id = (SELECT max(run_id) FROM linkage_runs WHERE entity = 'vehicle')) AS cloned_plates,
       (SELECT max(run_id) FROM linkage_runs WHERE entity = 'person') AS person_run_id,
       (SELECT max(run_id) FROM linkage_runs WHERE entity = 'vehicle') AS vehicle_run_id
