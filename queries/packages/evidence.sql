-- purpose: the evidence held for a package's incidents (CCTV, stills, DEMS and exhibit references) and who holds it (the referring source's organisation: its chain or force), from current referrals; free-text descriptions are not selected (withheld)
-- params: incident_ids BIGINT[] - the package's incidents
-- columns: incident_id, evidence_id, referral_id, kind, reference, source_name, source_type, holder
SELECT e.incident_id, e.evidence_id, e.referral_id, e.kind, e.reference, r.source_name, r.source_type,
       coalesce(rt.name, f.name, r.source_name) AS holder
FROM evidence_items e
JOIN referrals r ON r.referral_id = e.referral_id AND r.is_current
LEFT JOIN incidents i ON i.incident_id = e.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
LEFT JOIN retailers rt ON rt.retailer_id = s.retailer_id AND r.source_type = 'retailer'
LEFT JOIN forces f ON f.force_code = i.force_code AND r.source_type = 'force'
WHERE e.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
ORDER BY e.incident_id, e.evidence_id
