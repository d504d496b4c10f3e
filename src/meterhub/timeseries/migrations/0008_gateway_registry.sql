-- The gateway registry (реестр шлюзов): which building each gateway serves, and its broker password
-- hash. The ingest checks every readings and status message against it: an unknown or retired
-- gateway, or a topic naming another building than the gateway's, goes to dead letters.
-- `meterhub gateways add|remove|list|broker-config` manage it and write Mosquitto's password and
-- ACL files from it, so the broker and the ingest agree on who may write which building.

CREATE TABLE gateway_registry (
    gateway_id          text PRIMARY KEY CHECK (gateway_id ~ '^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$'),
    building_id         text NOT NULL CHECK (building_id ~ '^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$'),
    mqtt_password_hash  text,        -- Mosquitto PBKDF2-SHA512 hash ($7$...); NULL: credentials kept elsewhere
    note                text NOT NULL DEFAULT '',
    registered_at       timestamptz NOT NULL DEFAULT now(),
    retired_at          timestamptz  -- a retired gateway's messages go to dead letters
);
CREATE INDEX gateway_registry_building_idx ON gateway_registry (building_id);

-- An existing installation keeps working: every gateway already seen is registered to the building
-- it reported (check them with `meterhub gateways list`).
INSERT INTO gateway_registry (gateway_id, building_id, note)
SELECT gateway_id, building_id, 'registered from its status by migration 0008'
FROM gateways
ON CONFLICT DO NOTHING;
