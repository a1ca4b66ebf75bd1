-- purpose: every store with its retailer (the chain), for the network (workbench.linkage.network)
-- params: none
-- columns: store_id, name, retailer_id, chain, sector, address, town, postcode, latitude, longitude, force_code
SELECT s.store_id, s.name, s.retailer_id, r.name AS chain, r.sector, s.address, s.town, s.postcode, s.latitude,
       s.longitude, s.force_code
FROM stores s
LEFT JOIN retailers r ON r.retailer_id = s.retailer_id
ORDER BY s.store_id
