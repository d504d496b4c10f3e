-- Acts of undersupply (акт о непредоставлении коммунальной услуги / о предоставлении услуги ненадлежащего
-- качества, ПП 354 пп. 104–110). A confirmed act becomes one billing service_events row (the interruption
-- record the close recalculates, billing 0110); cancelling a confirmed act removes that row.
CREATE TABLE sd_acts (
    act_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    act_no        text NOT NULL UNIQUE,
    request_id    bigint REFERENCES api_requests (request_id) ON DELETE SET NULL,
    building_id   text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    premise_no    text,                       -- NULL: the whole building
    service       text NOT NULL REFERENCES services (service),
    kind          text NOT NULL CHECK (kind IN ('interruption', 'poor_quality')),
    started_at    timestamptz NOT NULL,       -- the consumer's report or the check's finding (п. 108–109)
    ended_at      timestamptz,                -- restoration (п. 111–113); NULL while it lasts
    findings      text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'confirmed', 'cancelled')),
    event_id      bigint REFERENCES service_events (event_id) ON DELETE SET NULL,
    created_by    bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    confirmed_by  bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    confirmed_at  timestamptz,
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE,
    CHECK (ended_at IS NULL OR ended_at > started_at),
    CHECK (status <> 'confirmed' OR ended_at IS NOT NULL)
);
CREATE SEQUENCE sd_act_numbers;
CREATE INDEX sd_acts_building_idx ON sd_acts (building_id, started_at);
