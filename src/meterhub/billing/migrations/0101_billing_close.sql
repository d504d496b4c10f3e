-- Period close (meterhub.billing): periods per building, the volumes and itemised charge lines the engine
-- produces, house-level common property, recalculations of closed periods and the close report.
-- A 'closed' period is immutable (the close refuses to rewrite it); a 'draft' is replaced on re-run.

CREATE TABLE billing_periods (
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status       text NOT NULL CHECK (status IN ('draft', 'closed')),
    computed_at  timestamptz NOT NULL,
    closed_at    timestamptz,
    PRIMARY KEY (building_id, period),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- Individual volume of an account × service × zone and how it was determined.
CREATE TABLE period_volumes (
    building_id     text NOT NULL,
    period          text NOT NULL,
    account_no      text NOT NULL,
    service         text NOT NULL,
    zone            text NOT NULL,
    volume          numeric NOT NULL,
    method          text NOT NULL,
    formula         text NOT NULL,
    persons         integer,
    normative       numeric,
    coefficient     numeric NOT NULL,
    average_months  integer,
    note            text NOT NULL DEFAULT '',
    PRIMARY KEY (building_id, period, account_no, service, zone),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

CREATE TABLE charge_lines (
    building_id                 text NOT NULL,
    period                      text NOT NULL,
    account_no                  text NOT NULL,
    service                     text NOT NULL,
    kind                        text NOT NULL,   -- individual / common_property
    zone                        text NOT NULL,
    part_start                  date NOT NULL,
    part_end                    date NOT NULL,
    volume                      numeric NOT NULL,
    unit                        text NOT NULL,
    tariff                      numeric NOT NULL,
    coefficient                 numeric NOT NULL,
    method                      text NOT NULL,
    formula                     text NOT NULL,
    amount_exact                numeric NOT NULL,
    amount                      numeric(14, 2) NOT NULL,
    amount_without_coefficient  numeric(14, 2),
    excess                      numeric(14, 2) NOT NULL,
    note                        text NOT NULL DEFAULT '',
    PRIMARY KEY (building_id, period, account_no, service, kind, zone, part_start),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

-- House-level common property (ОДН/КРСОИ) per service: the history of the AVERAGE method.
CREATE TABLE period_common_property (
    building_id       text NOT NULL,
    period            text NOT NULL,
    service           text NOT NULL,
    method_requested  text NOT NULL,
    method            text NOT NULL,
    formula           text NOT NULL,
    house_volume      numeric,
    individual_total  numeric NOT NULL,
    difference        numeric,
    normative_volume  numeric NOT NULL,
    distributed       numeric NOT NULL,
    excess            numeric NOT NULL,
    excess_cost       numeric(14, 2) NOT NULL,
    negative          boolean NOT NULL,
    PRIMARY KEY (building_id, period, service),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

-- перерасчёт: a correction of closed period `corrects_period`, booked in `period`.
CREATE TABLE recalculation_lines (
    building_id         text NOT NULL,
    period              text NOT NULL,
    corrects_period     text NOT NULL,
    account_no          text NOT NULL,
    service             text NOT NULL,
    kind                text NOT NULL,
    zone                text NOT NULL,
    part_start          date NOT NULL,
    volume_delta        numeric NOT NULL,
    amount_exact_delta  numeric NOT NULL,
    amount              numeric(14, 2) NOT NULL,
    method_before       text,
    method_after        text,
    reason              text NOT NULL,
    PRIMARY KEY (building_id, period, corrects_period, account_no, service, kind, zone, part_start),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE,
    CHECK (corrects_period < period)
);

CREATE TABLE close_reports (
    building_id  text NOT NULL,
    period       text NOT NULL,
    report       jsonb NOT NULL,
    PRIMARY KEY (building_id, period),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);
