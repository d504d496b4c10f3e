-- ГИС ЖКХ exchange (meterhub.exchange.gis, issue 21): the identifiers ГИС ЖКХ assigns, what was exported
-- and what came back, the НСИ mapping the messages need, court decisions (for debt requests) and the debt
-- subrequests received. See docs/gis-zhkh.md.

-- An identifier ГИС ЖКХ assigned to a meterhub object, imported from a getState response or a portal
-- spreadsheet. local_key: building_id (house_*), building_id || '/' || premise_no (premises_guid),
-- account_no (account_*), meter_id (device_*), account_no || '/' || YYYY-MM (payment_document_*).
CREATE TABLE gis_identifiers (
    kind         text NOT NULL CHECK (kind IN (
                     'house_fias_guid',        -- ФИАС/ГАР house GUID (FIASHouseGuid)
                     'house_unique_number',    -- уникальный номер дома в ГИС ЖКХ
                     'premises_guid',          -- PremisesGUID of a premise
                     'account_guid',           -- AccountGUID of a лицевой счёт
                     'account_els',            -- ЕЛС, единый лицевой счёт (UnifiedAccountNumber)
                     'account_izhku',          -- ИЖКУ, идентификатор жилищно-коммунальной услуги (ServiceID)
                     'device_root_guid',       -- MeteringDeviceRootGUID
                     'device_version_guid',    -- MeteringDeviceVersionGUID
                     'payment_document_id',    -- идентификатор платёжного документа (PaymentDocumentID)
                     'payment_document_guid',  -- PaymentDocumentGuid
                     'payment_notification_guid')),
    local_key    text NOT NULL,
    value        text NOT NULL CHECK (length(value) BETWEEN 1 AND 100),
    source       text NOT NULL,               -- the file it came from
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, local_key)
);
CREATE INDEX gis_identifiers_value_idx ON gis_identifiers (kind, value);

-- One message built by `meterhub gis export` (or a debt-request answer). status: built (written to a file,
-- not sent), sent (an installation's sender delivered it and reported the operator's ack), answered (the
-- getState result was imported), failed (the sender or the operator refused it).
CREATE TABLE gis_exports (
    export_id      bigserial PRIMARY KEY,
    kind           text NOT NULL,       -- houses / accounts / devices / readings / payment-documents / payments / debt-responses
    operation      text NOT NULL,       -- WSDL operation, e.g. importAccountData
    period         text CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    building_id    text,
    message_guid   uuid NOT NULL UNIQUE,
    file_name      text NOT NULL,
    items          integer NOT NULL CHECK (items >= 0),
    status         text NOT NULL DEFAULT 'built' CHECK (status IN ('built', 'sent', 'answered', 'failed')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    sent_at        timestamptz,
    ack_guid       uuid,                -- the operator's MessageGUID of the acknowledgement
    answered_at    timestamptz,
    response_file  text,
    ids_received   integer NOT NULL DEFAULT 0,
    errors         jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX gis_exports_kind_idx ON gis_exports (kind, created_at DESC);

-- Every object of an exported message under its TransportGUID, so the response's results (which name only
-- the TransportGUID) find their meterhub object again.
CREATE TABLE gis_export_items (
    transport_guid  uuid PRIMARY KEY,
    message_guid    uuid NOT NULL REFERENCES gis_exports (message_guid) ON DELETE CASCADE,
    entity          text NOT NULL CHECK (entity IN ('house', 'premise', 'account', 'device', 'reading',
                                                    'payment_document', 'payment_information', 'payment',
                                                    'debt_response')),
    local_key       text NOT NULL
);
CREATE INDEX gis_export_items_message_idx ON gis_export_items (message_guid);

-- НСИ (reference books) mapping: meterhub's services, resources and units → the НСИ entries the messages
-- name (nsiRef = Code + GUID). Editable data: `meterhub gis nsi FILE` replaces rows. НСИ 2 (коммунальные
-- ресурсы) is common to every organisation; the services of payment documents are the organisation's own
-- entries (НСИ 1 дополнительные / НСИ 51 коммунальные услуги, НСИ 50 жилищные услуги) created in its ГИС
-- ЖКХ account, so their code and GUID come from there. guid NULL = not filled yet (exports say so).
CREATE TABLE gis_nsi_refs (
    kind         text NOT NULL CHECK (kind IN ('resource', 'service', 'unit')),
    local_value  text NOT NULL,                 -- meterhub service (resource, service) or unit
    registry     integer,                       -- НСИ number (2, 50, 51, 1); NULL for ОКЕИ units
    code         text,
    guid         uuid,
    name         text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, local_value)
);
INSERT INTO gis_nsi_refs (kind, local_value, registry, code, name) VALUES
    ('resource', 'cold_water',  2, '1', 'Холодная вода'),
    ('resource', 'hot_water',   2, '2', 'Горячая вода'),
    ('resource', 'electricity', 2, '3', 'Электрическая энергия'),
    ('resource', 'heat',        2, '5', 'Тепловая энергия'),
    ('resource', 'wastewater',  2, '8', 'Сточные воды'),
    ('service',  'cold_water',  51, NULL, 'Холодное водоснабжение'),
    ('service',  'hot_water',   51, NULL, 'Горячее водоснабжение'),
    ('service',  'wastewater',  51, NULL, 'Водоотведение'),
    ('service',  'electricity', 51, NULL, 'Электроснабжение'),
    ('service',  'heat',        51, NULL, 'Отопление'),
    ('service',  'maintenance', 50, NULL, 'Плата за содержание жилого помещения'),
    ('service',  'penalties',   329, NULL, 'Пени'),
    ('unit',     'kWh',  NULL, '245', 'кВт·ч (ОКЕИ 245)'),
    ('unit',     'm3',   NULL, '113', 'м³ (ОКЕИ 113)'),
    ('unit',     'Gcal', NULL, '233', 'Гкал (ОКЕИ 233)'),
    ('unit',     'm2',   NULL, '055', 'м² (ОКЕИ 055)');

-- Court decisions on an account's debt (судебный приказ / решение суда): the fact a debt request asks for
-- ("задолженность, подтверждённая судебным актом"). The claims stage fills this table when it exists;
-- until then it is imported (`meterhub gis court-decisions FILE`). debt_from..debt_to are the periods the
-- decision covers; repaid_on is set when the debt under it is paid (or the decision is cancelled).
CREATE TABLE court_decisions (
    decision_id      bigserial PRIMARY KEY,
    account_no       text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    case_number      text NOT NULL CHECK (length(case_number) BETWEEN 1 AND 100),
    court            text NOT NULL DEFAULT '',
    decided_on       date NOT NULL,
    in_force_on      date NOT NULL,
    debt_from        text NOT NULL CHECK (debt_from ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    debt_to          text NOT NULL CHECK (debt_to ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    amount_kopecks   bigint NOT NULL CHECK (amount_kopecks > 0),
    debtor_last_name   text NOT NULL CHECK (length(debtor_last_name) BETWEEN 1 AND 100),
    debtor_first_name  text NOT NULL CHECK (length(debtor_first_name) BETWEEN 1 AND 100),
    debtor_middle_name text,
    debtor_snils     text CHECK (debtor_snils ~ '^[0-9]{11}$'),
    repaid_on        date,
    source           text NOT NULL DEFAULT 'import',
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_no, case_number),
    CHECK (in_force_on >= decided_on),
    CHECK (debt_to >= debt_from)
);

-- Debt subrequests (подзапросы о наличии задолженности) received from ГИС ЖКХ and how each was answered.
CREATE TABLE gis_debt_subrequests (
    subrequest_guid   uuid PRIMARY KEY,
    request_number    text NOT NULL,
    house_guid        text,
    fias_house_guid   text,
    address           text NOT NULL,
    address_details   text,
    period_start      date NOT NULL,
    period_end        date NOT NULL,
    sent_date         date,
    response_due      date,
    requester         text NOT NULL DEFAULT '',
    source            text NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    answered_at       timestamptz,
    has_debt          boolean,
    accounts          text[] NOT NULL DEFAULT '{}',
    answer_note       text NOT NULL DEFAULT '',
    response_message_guid uuid
);
