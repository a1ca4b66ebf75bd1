-- Schema version 2: place every store and incident in the real geography once (force area, LSOA,
-- H3 cells), flag stated-force/location-force disagreements, hold a postcode directory, and carry
-- MoPI review dates on referrals.

ALTER TABLE stores ADD COLUMN lsoa_code VARCHAR;            -- LSOA (2011) containing the store
ALTER TABLE stores ADD COLUMN location_force_code VARCHAR;  -- force area containing the coordinates
ALTER TABLE stores ADD COLUMN h3_r7 VARCHAR;                -- H3 cell ids at resolutions 7, 8, 9
ALTER TABLE stores ADD COLUMN h3_r8 VARCHAR;
ALTER TABLE stores ADD COLUMN h3_r9 VARCHAR;

ALTER TABLE incidents ADD COLUMN location_force_code VARCHAR; -- force area of the incident's location
ALTER TABLE incidents ADD COLUMN lsoa_code VARCHAR;
ALTER TABLE incidents ADD COLUMN h3_r7 VARCHAR;
ALTER TABLE incidents ADD COLUMN h3_r8 VARCHAR;
ALTER TABLE incidents ADD COLUMN h3_r9 VARCHAR;
ALTER TABLE incidents ADD COLUMN force_mismatch BOOLEAN;     -- stated force differs from location force

ALTER TABLE referrals ADD COLUMN review_due DATE;            -- MoPI review date (configurable period)

CREATE TABLE postcodes (
    postcode_norm  VARCHAR PRIMARY KEY,  -- upper case, no spaces
    postcode       VARCHAR NOT NULL,     -- display form, e.g. 'LS1 4AP'
    latitude       DOUBLE,
    longitude      DOUBLE,
    lsoa_code      VARCHAR,
    source         VARCHAR              -- which directory file supplied it
);
