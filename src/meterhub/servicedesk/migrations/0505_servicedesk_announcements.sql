-- Announcements (объявления): planned outages and information campaigns for one building, the buildings of
-- a street or all buildings; shown in the cabinet while current and sent to residents who opted in.
CREATE TABLE sd_announcements (
    announcement_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('planned_outage', 'campaign')),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    service          text REFERENCES services (service),     -- the service switched off (planned outage)
    building_id      text REFERENCES buildings (building_id) ON DELETE CASCADE,
    street           text,                                     -- every building whose address contains it
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by       bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (building_id IS NULL OR street IS NULL)
);
-- The buildings an announcement reached, resolved when it was published (a street's buildings then).
CREATE TABLE sd_announcement_buildings (
    announcement_id  bigint NOT NULL REFERENCES sd_announcements (announcement_id) ON DELETE CASCADE,
    building_id      text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    PRIMARY KEY (announcement_id, building_id)
);
CREATE INDEX sd_announcement_buildings_building_idx ON sd_announcement_buildings (building_id);

-- A resident's consent to receive announcements by e-mail (the login's address) and/or SMS.
CREATE TABLE sd_announcement_optins (
    user_id   bigint PRIMARY KEY REFERENCES api_users (user_id) ON DELETE CASCADE,
    by_email  boolean NOT NULL DEFAULT false,
    by_sms    boolean NOT NULL DEFAULT false,
    phone     text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The cabinet's notifications (api 0260) also announce them.
ALTER TABLE api_notifications DROP CONSTRAINT IF EXISTS api_notifications_kind_check;
ALTER TABLE api_notifications ADD CONSTRAINT api_notifications_kind_check
    CHECK (kind IN ('receipt', 'request_answer', 'account_linked', 'security', 'announcement'));
