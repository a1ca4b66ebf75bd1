-- purpose: current referrals ordered by triage priority: violence against staff, juvenile or prolific offenders, offenders seen in several forces (names matched exactly, case-insensitively: a screening aid, not linkage)
-- params: prolific_min INTEGER - incidents an offender name must appear in to count as prolific; max_rows INTEGER - rows to return
-- columns: referral_id, source_name, source_ref, received_at, incidents, forces, violence, juvenile, prolific, offender_forces, priority, reasons
WITH cur AS (SELECT referral_id, source_name, source_ref, received_at FROM referrals WHERE is_current),
inc AS (
    SELECT ri.referral_id, count(*) AS incidents, count(DISTINCT i.force_code) AS forces,
           bool_or(coalesce(i.violence, FALSE)) AS violence
    FROM referral_incidents ri JOIN cur USING (referral_id) JOIN incidents i USING (incident_id)
    GROUP BY ri.referral_id),
people AS (
    SELECT p.referral_id, p.incident_id, lower(trim(p.full_name)) AS pkey, coalesce(p.is_juvenile, FALSE) AS juvenile
    FROM person_mentions p JOIN cur USING (referral_id) WHERE p.full_name IS NOT NULL),
pstats AS (
    SELECT pkey, count(DISTINCT incident_id) AS n_incidents, count(DISTINCT i.force_code) AS n_forces
    FROM people JOIN incidents i USING (incident_id) GROUP BY pkey),
per_ref AS (
    SELECT referral_id, bool_or(juvenile) AS juvenile, max(n_incidents) AS max_incidents, max(n_forces) AS max_forces
    FROM people JOIN pstats USING (pkey) GROUP BY referral_id),
scored AS (
    SELECT c.referral_id, c.source_name, c.source_ref, c.received_at, coalesce(inc.incidents, 0) AS incidents,
           coalesce(inc.forces, 0) AS forces, coalesce(inc.violence, FALSE) AS violence,
           coalesce(pr.juvenile, FALSE) AS juvenile, coalesce(pr.max_incidents, 0) >= $prolific_min AS prolific,
           coalesce(pr.max_forces, 0) AS offender_forces
    FROM cur c LEFT JOIN inc USING (referral_id) LEFT JOIN per_ref pr USING (referral_id))
SELECT *, 3 * violence::INTEGER + 2 * juvenile::INTEGER + 2 * prolific::INTEGER
          + 2 * (greatest(forces, offender_forces) > 1)::INTEGER AS priority,
       concat_ws(', ', CASE WHEN violence THEN 'violence' END, CASE WHEN juvenile THEN 'juvenile' END,
                 CASE WHEN prolific THEN 'prolific' END,
                 CASE WHEN greatest(forces, offender_forces) > 1 THEN 'multiple forces' END) AS reasons
FROM scored
ORDER BY priority DESC, received_at DESC, referral_id
LIMIT $max_rows
