-- Gateway status (from the retained MQTT status topic and its LWT) and a log of ingested messages.

CREATE TABLE gateways (
    gateway_id        text PRIMARY KEY,
    building_id       text NOT NULL,
    state             text NOT NULL CHECK (state IN ('online', 'offline')),
    software_version  text NOT NULL DEFAULT '',
    status_ts         timestamptz NOT NULL,          -- time the gateway stamped on its status
    last_seen         timestamptz NOT NULL,          -- last status or readings message received
    outbox_backlog    integer NOT NULL DEFAULT 0,
    outbox_oldest     timestamptz,
    devices           jsonb NOT NULL DEFAULT '[]'    -- per-device health as the gateway reported it
);

-- Every status change, for the online/offline timeline.
CREATE TABLE gateway_status_history (
    gateway_id   text NOT NULL,
    building_id  text NOT NULL,
    status_ts    timestamptz NOT NULL,
    state        text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    devices      jsonb NOT NULL DEFAULT '[]',
    outbox_backlog integer NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway_id, status_ts, state)
);

-- One row per readings message committed by the ingest: counts and publish-to-commit lag.
CREATE TABLE ingest_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    committed_at  timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    gateway_id    text,
    building_id   text,
    batch_id      text,
    sent_at       timestamptz,
    readings      integer NOT NULL DEFAULT 0,
    inserted      integer NOT NULL DEFAULT 0,
    duplicates    integer NOT NULL DEFAULT 0,
    rejected      integer NOT NULL DEFAULT 0,
    ingest_worker text NOT NULL
);
CREATE INDEX ingest_log_committed_idx ON ingest_log (committed_at);
CREATE INDEX ingest_log_batch_idx ON ingest_log (batch_id);
