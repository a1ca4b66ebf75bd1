-- Schema version 3: police.uk street-level recorded crime (context data, not referrals), loaded by the
-- referral ingest through the police_uk_street source mapping.

CREATE TABLE recorded_crimes (
    crime_key     VARCHAR PRIMARY KEY,  -- police.uk Crime ID, or a hash of the row when it has none
    crime_id      VARCHAR,              -- police.uk Crime ID (blank for anti-social behaviour)
    month         DATE NOT NULL,        -- first day of the month (time resolution is the month)
    reported_by   VARCHAR,
    falls_within  VARCHAR,
    force_code    VARCHAR,              -- resolved from falls_within
    longitude     DOUBLE,               -- anonymised snap point
    latitude      DOUBLE,
    location      VARCHAR,
    lsoa_code     VARCHAR,
    lsoa_name     VARCHAR,
    crime_type    VARCHAR,
    last_outcome  VARCHAR,
    context       VARCHAR,
    batch_id      BIGINT,
    source_row    BIGINT
);
