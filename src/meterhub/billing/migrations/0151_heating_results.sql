-- Heating results of the close (billing-rules.md §9): the house's month (volume, source, method, heating
-- days, common-property heat) and each premise's own and common volumes — the history the failed-meter
-- averages and the yearly correction read, and the ЕПД's section 4 / the cabinet's house heat chart.
-- Replaced with the period's draft, immutable once the period is closed (the close's rules).

CREATE TABLE heating_house_periods (
    building_id     text NOT NULL,
    period          text NOT NULL,
    payment_mode    text NOT NULL,
    method          text NOT NULL,
    house_source    text NOT NULL CHECK (house_source IN ('meter', 'average', 'even', 'normative')),
    measured_gcal   numeric,          -- the house meter's volume of the month (NULL: no valid volume)
    house_gcal      numeric NOT NULL, -- the volume distributed (measured, average, V_T or Σ normative)
    own_gcal        numeric NOT NULL,
    common_gcal     numeric NOT NULL,
    heating_days    integer NOT NULL,
    total_area      numeric NOT NULL,
    volume_decimals smallint NOT NULL,
    PRIMARY KEY (building_id, period),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

CREATE TABLE heating_premise_periods (
    building_id  text NOT NULL,
    period       text NOT NULL,
    premise_no   text NOT NULL,
    devices      text NOT NULL,
    own_source   text NOT NULL,   -- meter / average / computed / none
    measured_gcal numeric,        -- the ИПУ's volume of the month (NULL: none or not valid)
    own_gcal     numeric NOT NULL,
    common_gcal  numeric NOT NULL,
    area         numeric NOT NULL,
    PRIMARY KEY (building_id, period, premise_no),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

ALTER TABLE heating_corrections ADD COLUMN billed_gcal numeric NOT NULL DEFAULT 0;

ALTER TABLE recalculation_lines DROP CONSTRAINT IF EXISTS recalculation_lines_source_check;
ALTER TABLE recalculation_lines ADD CONSTRAINT recalculation_lines_source_check
    CHECK (source IN ('recheck', 'true_up', 'heating_correction'));
