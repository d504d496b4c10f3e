-- Service desk (обращения): deadline categories as data, the working-hours calendar, executors
-- (departments, contractors, the emergency service АДС) and routing; the resident requests of
-- api_requests (0201) gain a channel, a category with deadlines, an executor and the control dates.

-- Categories with their deadlines (data: an УК edits them to its own regulation). hours_kind says whether
-- the deadlines count working hours (sd_working_hours minus sd_calendar_days holidays) or calendar hours.
CREATE TABLE sd_categories (
    category          text PRIMARY KEY,
    name_ru           text NOT NULL,
    response_hours    numeric NOT NULL CHECK (response_hours > 0),
    resolution_hours  numeric NOT NULL CHECK (resolution_hours >= response_hours),
    hours_kind        text NOT NULL CHECK (hours_kind IN ('working', 'calendar')),
    undersupply       boolean NOT NULL DEFAULT false,  -- may lead to an act (ПП 354 пп. 104–110)
    source            text NOT NULL
);
INSERT INTO sd_categories (category, name_ru, response_hours, resolution_hours, hours_kind, undersupply, source)
VALUES
    ('emergency', 'аварийная заявка', 0.5, 72, 'calendar', true,
     'ПП 416 п. 13: локализация аварии не позднее 30 минут с регистрации заявки, устранение — до 3 суток'),
    ('blockage', 'засор', 0.5, 2, 'calendar', false,
     'ПП 416 п. 13: ликвидация засора канализации или мусоропровода не более 2 часов'),
    ('undersupply', 'непредоставление или ненадлежащее качество услуги', 2, 24, 'calendar', true,
     'ПП 354 п. 108: проверка не позднее 2 часов с получения сообщения; акт по п. 109–110'),
    ('fault', 'неисправность', 24, 120, 'working', false, 'регламент УК: ответ за рабочий день, устранение 5 рабочих дней'),
    ('meter_service', 'установка, поверка, ремонт прибора учёта', 24, 120, 'working', false,
     'ПП 354 п. 81: ввод в эксплуатацию в срок не позднее месяца с заявки; регламент УК'),
    ('billing_claim', 'претензия по начислениям', 24, 72, 'working', false,
     'ПП 354 п. 31(д): проверка правильности начислений при обращении; регламент УК — 3 рабочих дня'),
    ('information', 'запрос информации', 24, 80, 'working', false,
     'ПП 416 п. 36: ответ на письменный запрос в течение 10 рабочих дней'),
    ('appointment', 'запись на приём', 8, 24, 'working', false, 'регламент УК'),
    ('other', 'другое', 24, 80, 'working', false, 'ПП 416 п. 36: обращения — 10 рабочих дней');

-- The working week (local time of the building): one row per ISO weekday that is a working day.
CREATE TABLE sd_working_hours (
    weekday  smallint PRIMARY KEY CHECK (weekday BETWEEN 1 AND 7),
    opens    time NOT NULL,
    closes   time NOT NULL CHECK (closes > opens)
);
INSERT INTO sd_working_hours VALUES (1, '09:00', '18:00'), (2, '09:00', '18:00'), (3, '09:00', '18:00'),
    (4, '09:00', '18:00'), (5, '09:00', '18:00');

-- The production calendar (производственный календарь): holidays on working weekdays and working days
-- moved to a weekend (перенос). Rows override sd_working_hours for that day.
CREATE TABLE sd_calendar_days (
    day     date PRIMARY KEY,
    kind    text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    note    text NOT NULL DEFAULT ''
);
INSERT INTO sd_calendar_days (day, kind, note) VALUES
    ('2026-01-01', 'holiday', 'Новогодние каникулы'), ('2026-01-02', 'holiday', 'Новогодние каникулы'),
    ('2026-01-05', 'holiday', 'Новогодние каникулы'), ('2026-01-06', 'holiday', 'Новогодние каникулы'),
    ('2026-01-07', 'holiday', 'Рождество Христово'), ('2026-01-08', 'holiday', 'Новогодние каникулы'),
    ('2026-01-09', 'holiday', 'перенос с 3 января'), ('2026-02-23', 'holiday', 'День защитника Отечества'),
    ('2026-03-09', 'holiday', 'перенос с 8 марта'), ('2026-05-01', 'holiday', 'Праздник Весны и Труда'),
    ('2026-05-11', 'holiday', 'перенос с 9 мая'), ('2026-06-12', 'holiday', 'День России'),
    ('2026-11-04', 'holiday', 'День народного единства'), ('2026-12-31', 'holiday', 'перенос с 4 января'),
    ('2027-01-01', 'holiday', 'Новогодние каникулы'), ('2027-01-04', 'holiday', 'Новогодние каникулы'),
    ('2027-01-05', 'holiday', 'Новогодние каникулы'), ('2027-01-06', 'holiday', 'Новогодние каникулы'),
    ('2027-01-07', 'holiday', 'Рождество Христово'), ('2027-01-08', 'holiday', 'Новогодние каникулы');

-- Who carries requests out: a department of the УК, a contractor (подрядчик) or the emergency service.
CREATE TABLE sd_executors (
    executor_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('department', 'contractor', 'emergency_service')),
    email        text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    active       boolean NOT NULL DEFAULT true
);

-- Users of a contractor (role contractor) see only their executor's queue.
CREATE TABLE sd_executor_users (
    user_id      bigint PRIMARY KEY REFERENCES api_users (user_id) ON DELETE CASCADE,
    executor_id  bigint NOT NULL REFERENCES sd_executors (executor_id) ON DELETE CASCADE
);

-- Routing: a category (and optionally a building) goes to an executor; the building row wins.
CREATE TABLE sd_routes (
    route_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category     text NOT NULL REFERENCES sd_categories (category),
    building_id  text REFERENCES buildings (building_id) ON DELETE CASCADE,
    executor_id  bigint NOT NULL REFERENCES sd_executors (executor_id) ON DELETE CASCADE,
    UNIQUE NULLS NOT DISTINCT (category, building_id)
);

-- The requests: every channel. Requests from the phone or a letter may come from someone without an
-- account (a passer-by reporting a leak): then building_id and the applicant's contact say where and who.
ALTER TABLE api_requests ALTER COLUMN account_no DROP NOT NULL;
ALTER TABLE api_requests
    ADD COLUMN channel            text NOT NULL DEFAULT 'web'
        CHECK (channel IN ('web', 'phone', 'walk_in', 'email', 'letter', 'fax')),
    ADD COLUMN sd_category        text REFERENCES sd_categories (category),
    ADD COLUMN building_id        text REFERENCES buildings (building_id) ON DELETE CASCADE,
    ADD COLUMN applicant          text NOT NULL DEFAULT '',
    ADD COLUMN contact            text NOT NULL DEFAULT '',
    ADD COLUMN executor_id        bigint REFERENCES sd_executors (executor_id) ON DELETE SET NULL,
    ADD COLUMN registered_by      bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    ADD COLUMN response_due_at    timestamptz,
    ADD COLUMN resolution_due_at  timestamptz,
    ADD COLUMN responded_at       timestamptz,
    ADD COLUMN resolved_at        timestamptz,
    ADD COLUMN closed_at          timestamptz,
    ADD COLUMN escalation_level   smallint NOT NULL DEFAULT 0,
    ADD COLUMN rating             smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN resident_confirmed boolean,
    ADD CONSTRAINT api_requests_where CHECK (account_no IS NOT NULL OR building_id IS NOT NULL);
ALTER TABLE api_requests DROP CONSTRAINT api_requests_status_check;
ALTER TABLE api_requests ADD CONSTRAINT api_requests_status_check
    CHECK (status IN ('new', 'in_progress', 'done', 'rejected', 'closed'));

-- Existing requests: their building from the account, a deadline category from the cabinet's topic.
UPDATE api_requests r SET building_id = a.building_id FROM accounts a WHERE a.account_no = r.account_no;
UPDATE api_requests SET sd_category = CASE category
    WHEN 'meters' THEN 'meter_service' WHEN 'billing' THEN 'billing_claim' WHEN 'other' THEN 'other'
    ELSE 'fault' END;
CREATE INDEX api_requests_open_due_idx ON api_requests (resolution_due_at)
    WHERE status IN ('new', 'in_progress');
CREATE INDEX api_requests_executor_idx ON api_requests (executor_id, status);

-- Everything that happened to a request besides its status (api_request_history keeps those):
-- assignment, re-assignment, escalation, internal comments, attachments, answers, acts, notifications.
CREATE TABLE sd_request_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id   bigint NOT NULL REFERENCES api_requests (request_id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('registered', 'assigned', 'reassigned', 'escalated', 'comment',
                     'attachment', 'responded', 'resolved', 'closed', 'act', 'letter', 'notified')),
    executor_id  bigint REFERENCES sd_executors (executor_id) ON DELETE SET NULL,
    text         text NOT NULL DEFAULT '',
    actor        bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sd_request_events_request_idx ON sd_request_events (request_id, id);

-- Attachments of a request: scans of letters, the original e-mail, photos from contractors.
CREATE TABLE sd_attachments (
    attachment_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id     bigint NOT NULL REFERENCES api_requests (request_id) ON DELETE CASCADE,
    filename       text NOT NULL,
    content_type   text NOT NULL,
    size_bytes     integer NOT NULL CHECK (size_bytes > 0),
    sha256         text NOT NULL,
    data           bytea NOT NULL,
    uploaded_by    bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sd_attachments_request_idx ON sd_attachments (request_id);
