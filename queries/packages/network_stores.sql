-- purpose: the stores of a package's incidents with their retailer (linkage/network_stores narrowed to them), for the package's association network (workbench.packages.content.package_network)
-- params: store_ids VARCHAR[] - the network's incidents' stores
-- columns: store_id, name, retailer_id, chain, sector, address, town, postcode, latitude, longitude, force_code
SELECT s.store_id, s.name, s.retailer_id, r.name AS chain, r.sector, s.address, s.town, s.postcode, s.latitude,
       s.longitude, s.force_code
FROM stores s
LEFT JOIN retailers r ON r.retailer_id = s.retailer_id
WHERE s.store_id IN (SELECT CAST(unnest($store_ids) AS VARCHAR))
ORDER BY s.store_id
