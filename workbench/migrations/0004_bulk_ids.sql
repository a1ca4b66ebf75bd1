-- Schema version 4: the ingest allocates the ids of the rows it writes in bulk (the table's largest id plus a
-- row number, inside the batch's transaction) instead of one nextval() per row, which cost about a third of
-- the time of writing a million mentions. The ingest is the only writer of these tables; without a default an
-- insert that forgets the id fails instead of colliding with ids the sequence never issued.

ALTER TABLE referrals ALTER COLUMN referral_id DROP DEFAULT;
ALTER TABLE person_mentions ALTER COLUMN mention_id DROP DEFAULT;
ALTER TABLE vehicle_mentions ALTER COLUMN mention_id DROP DEFAULT;
ALTER TABLE evidence_items ALTER COLUMN evidence_id DROP DEFAULT;
ALTER TABLE quarantine ALTER COLUMN quarantine_id DROP DEFAULT;
ALTER TABLE validation_flags ALTER COLUMN flag_id DROP DEFAULT;
