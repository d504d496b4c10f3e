-- Readings a gateway's outbox refused because it was full (GatewayStatus.outbox_dropped, a counter
-- since the outbox was created): data lost at the edge, which the engineers must see.

ALTER TABLE gateways ADD COLUMN outbox_dropped bigint NOT NULL DEFAULT 0;
ALTER TABLE gateway_status_history ADD COLUMN outbox_dropped bigint NOT NULL DEFAULT 0;
