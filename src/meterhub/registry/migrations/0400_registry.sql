-- The register of residents (meterhub.registry, паспортный стол): persons, names and identity documents
-- with their history, legal representatives, owners and title documents, registration events per
-- premise (append-only), the audit log of personal data, and residents' orders of a справка.
-- Buildings and premises are billing's tables (0100); the register refers to them.

-- The УК keeps the register of this building in meterhub from kept_from: the close takes resident counts
-- from the register for days from kept_from on, from resident_counts (the counts import) before.
CREATE TABLE registry_buildings (
    building_id  text PRIMARY KEY REFERENCES buildings (building_id) ON DELETE CASCADE,
    kept_from    date NOT NULL,
    note         text NOT NULL DEFAULT ''
);

-- гражданин: the current name is the latest row of registry_person_names.
CREATE TABLE registry_persons (
    person_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    birth_date     date,
    birth_place    text NOT NULL DEFAULT '',
    sex            text CHECK (sex IN ('male', 'female')),
    citizenship    text NOT NULL DEFAULT 'Российская Федерация',
    snils          text CHECK (snils ~ '^\d{3}-\d{3}-\d{3} \d{2}$'),
    phone          text NOT NULL DEFAULT '',
    email          text NOT NULL DEFAULT '',
    incapacitated  boolean NOT NULL DEFAULT false,   -- признан недееспособным (by a court)
    death_date     date,
    legacy_key     text UNIQUE,                      -- the id in a legacy card index (idempotent import)
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- ФИО with history (смена фамилии при браке etc.): the name in force from valid_from.
CREATE TABLE registry_person_names (
    person_id   bigint NOT NULL REFERENCES registry_persons (person_id),
    valid_from  date NOT NULL,
    last_name   text NOT NULL CHECK (last_name <> ''),
    first_name  text NOT NULL CHECK (first_name <> ''),
    patronymic  text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, valid_from)
);
CREATE INDEX registry_person_names_search_idx ON registry_person_names (lower(last_name), lower(first_name));

-- документ, удостоверяющий личность: a replaced document keeps its row with replaced_on.
CREATE TABLE registry_documents (
    document_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id         bigint NOT NULL REFERENCES registry_persons (person_id),
    doc_type          text NOT NULL CHECK (doc_type IN (
                          'passport_rf', 'birth_certificate', 'foreign_passport', 'residence_permit',
                          'temporary_residence_permit', 'military_id', 'other')),
    series            text NOT NULL DEFAULT '',
    number            text NOT NULL CHECK (number <> ''),
    issued_by         text NOT NULL DEFAULT '',
    issued_on         date,
    subdivision_code  text NOT NULL DEFAULT '' CHECK (subdivision_code = '' OR subdivision_code ~ '^\d{3}-\d{3}$'),
    replaced_on       date,
    replaced_reason   text NOT NULL DEFAULT '',
    UNIQUE (doc_type, series, number)
);
CREATE INDEX registry_documents_person_idx ON registry_documents (person_id);

-- законный представитель ↔ несовершеннолетний или недееспособный.
CREATE TABLE registry_representatives (
    representative_id  bigint NOT NULL REFERENCES registry_persons (person_id),
    represented_id     bigint NOT NULL REFERENCES registry_persons (person_id),
    kind               text NOT NULL CHECK (kind IN ('parent', 'adoptive_parent', 'guardian', 'trustee')),
    basis              text NOT NULL DEFAULT '',
    valid_from         date,
    valid_to           date,
    PRIMARY KEY (representative_id, represented_id, kind),
    CHECK (representative_id <> represented_id)
);
CREATE INDEX registry_representatives_represented_idx ON registry_representatives (represented_id);

-- собственник помещения with a share (доля) and the title document (правоустанавливающий документ).
CREATE TABLE registry_owners (
    ownership_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    building_id      text NOT NULL,
    premise_no       text NOT NULL,
    person_id        bigint REFERENCES registry_persons (person_id),
    organization     text NOT NULL DEFAULT '',       -- a legal entity or the municipality as owner
    share_numerator  integer NOT NULL DEFAULT 1 CHECK (share_numerator > 0),
    share_denominator integer NOT NULL DEFAULT 1 CHECK (share_denominator >= share_numerator),
    acquired_on      date NOT NULL,
    lost_on          date,
    title_type       text NOT NULL DEFAULT '',       -- договор купли-продажи, свидетельство о наследстве…
    title_number     text NOT NULL DEFAULT '',
    title_date       date,
    registry_entry   text NOT NULL DEFAULT '',       -- номер записи в ЕГРН
    scan             bytea,
    scan_name        text NOT NULL DEFAULT '',
    scan_mime        text NOT NULL DEFAULT '',
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no),
    CHECK (person_id IS NOT NULL OR organization <> ''),
    CHECK (lost_on IS NULL OR lost_on > acquired_on)
);
CREATE INDEX registry_owners_premise_idx ON registry_owners (building_id, premise_no);

-- Registration events (append-only; an error is withdrawn by an 'annulment' event, never edited).
CREATE TABLE registry_events (
    event_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('residence', 'stay', 'notice', 'deregistration',
                          'stay_extension', 'annulment', 'name_change', 'document_change')),
    person_id         bigint NOT NULL REFERENCES registry_persons (person_id),
    building_id       text,
    premise_no        text,
    account_no        text REFERENCES accounts (account_no),
    event_date        date NOT NULL,
    end_date          date,
    refers_to         bigint REFERENCES registry_events (event_id),
    reason            text NOT NULL DEFAULT '',
    relation_to_head  text NOT NULL DEFAULT '',      -- отношение к нанимателю/собственнику (форма № 10)
    moved_from        text NOT NULL DEFAULT '',      -- откуда прибыл
    moved_to          text NOT NULL DEFAULT '',      -- куда выбыл
    basis_type        text NOT NULL DEFAULT '',      -- the document the event rests on
    basis_number      text NOT NULL DEFAULT '',
    basis_date        date,
    legacy_key        text UNIQUE,
    recorded_by       text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no),
    CHECK (kind NOT IN ('residence', 'stay', 'notice') OR premise_no IS NOT NULL),
    CHECK (kind NOT IN ('deregistration', 'stay_extension', 'annulment') OR refers_to IS NOT NULL),
    CHECK (kind <> 'stay' OR end_date IS NOT NULL),
    CHECK (end_date IS NULL OR kind = 'stay_extension' OR end_date > event_date)
);
CREATE INDEX registry_events_premise_idx ON registry_events (building_id, premise_no, event_date);
CREATE INDEX registry_events_person_idx ON registry_events (person_id);

CREATE FUNCTION registry_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registry_events is append-only: withdraw event % with an annulment event instead',
        OLD.event_id;
END $$;
CREATE TRIGGER registry_events_append_only BEFORE UPDATE OR DELETE ON registry_events
    FOR EACH ROW EXECUTE FUNCTION registry_events_append_only();

-- Who read or changed which person's data, when (152-ФЗ ст. 19: учёт действий с персональными данными).
CREATE TABLE registry_audit_log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    actor_role  text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action IN ('read', 'create', 'change', 'print', 'export', 'import')),
    person_id   bigint REFERENCES registry_persons (person_id),
    subject     text NOT NULL,                       -- what: 'person', 'documents', 'form_9', 'list' …
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX registry_audit_log_person_idx ON registry_audit_log (person_id, at);

-- A resident orders a справка from the cabinet; the passport office issues or refuses it.
CREATE TABLE registry_certificate_orders (
    order_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_no   text NOT NULL REFERENCES accounts (account_no),
    kind         text NOT NULL CHECK (kind IN ('registration', 'family', 'period')),
    comment      text NOT NULL DEFAULT '',
    ordered_by   text NOT NULL,
    ordered_at   timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'issued', 'refused')),
    handled_by   text,
    handled_at   timestamptz,
    staff_note   text NOT NULL DEFAULT ''
);
CREATE INDEX registry_certificate_orders_account_idx ON registry_certificate_orders (account_no, ordered_at);

-- A change of the register reaches back into closed periods: mark the building like the other inputs
-- of the close (billing 0103), so the recalculation check reloads it.
DO $$
DECLARE
    spec record;
    ev text;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('registry_events', 'SELECT t.building_id FROM %1$s UNION '
                            'SELECT e.building_id FROM %1$s JOIN registry_events e ON e.event_id = t.refers_to'),
        ('registry_buildings', 'SELECT t.building_id FROM %1$s')
    ) v(tbl, query) LOOP
        FOREACH ev IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            EXECUTE format(
                'CREATE TRIGGER billing_input_changes_%s AFTER %s ON %I %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION billing_note_domain_changes(%L)',
                lower(ev), ev, spec.tbl,
                CASE ev WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                        WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                        ELSE 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                spec.query);
        END LOOP;
    END LOOP;
END $$;
