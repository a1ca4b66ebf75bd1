-- purpose: the stores of a training case and their retailers
-- params: store_ids VARCHAR[] - the case's stores
-- columns: every column of stores, retailer_name, sector
SELECT s.*, r.name AS retailer_name, r.sector FROM stores s LEFT JOIN retailers r USING (retailer_id)
WHERE list_contains($store_ids, s.store_id) ORDER BY s.store_id
