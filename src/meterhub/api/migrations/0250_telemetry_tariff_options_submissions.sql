-- Resident telemetry API (meterhub.api, issue 7 telemetry part).
--
-- tariff_options: the electricity (or other) tariff variants a supplier OFFERS households beside the one a
-- building is billed on — regional tariff orders publish single-rate, two-zone and three-zone prices at
-- once. Used only by the tariff advice (подбор тарифа); billing keeps using `tariffs`. Same columns and
-- conventions as `tariffs` (prices [₽/unit], zone_schedule in local time, NULL = the scheme's default
-- ФСТ 1473-э schedule; applies_to '*' or one building, a building's own rows replace the '*' ones of that
-- service and scheme).
CREATE TABLE tariff_options (
    service          text NOT NULL REFERENCES services (service),
    applies_to       text NOT NULL DEFAULT '*',
    scheme           text NOT NULL CHECK (scheme IN ('single_rate', 'two_zone', 'three_zone')),
    valid_from       date NOT NULL,
    valid_to         date,
    price_single     numeric(14, 6),
    price_day        numeric(14, 6),
    price_night      numeric(14, 6),
    price_peak       numeric(14, 6),
    price_semi_peak  numeric(14, 6),
    zone_schedule    text,
    PRIMARY KEY (service, applies_to, scheme, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CHECK (scheme <> 'single_rate' OR price_single IS NOT NULL),
    CHECK (scheme <> 'two_zone' OR (price_day IS NOT NULL AND price_night IS NOT NULL)),
    CHECK (scheme <> 'three_zone' OR (price_peak IS NOT NULL AND price_semi_peak IS NOT NULL
                                      AND price_night IS NOT NULL))
);

-- Who submitted which manual reading through the API (the reading itself is in `readings` with
-- source 1 = manual): the audit trail of a resident's submission and what they were told.
CREATE TABLE reading_submissions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    user_id           bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    account_no        text NOT NULL,
    meter_id          text NOT NULL,
    taken_at          timestamptz NOT NULL,
    counts_for        text NOT NULL CHECK (counts_for ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    submitted_values  jsonb NOT NULL,        -- {"T1": "12545.67", ...} as submitted (decimal strings)
    next_bill_method  text NOT NULL CHECK (next_bill_method IN ('meter', 'average', 'normative')),
    warnings          jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX reading_submissions_meter_idx ON reading_submissions (meter_id, taken_at);
CREATE INDEX reading_submissions_account_idx ON reading_submissions (account_no, submitted_at);
