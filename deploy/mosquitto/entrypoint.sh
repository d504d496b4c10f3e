#!/bin/sh
# Build the password file from the gateways' file (made with mosquitto_passwd, mounted read-only) and
# the ingest's password from the environment, then run the broker.
set -eu
: "${MQTT_INGEST_PASSWORD:?set MQTT_INGEST_PASSWORD}"
umask 077
if [ -f /mosquitto/config/gateways.passwd ]; then
    cp /mosquitto/config/gateways.passwd /mosquitto/data/passwd
else
    : > /mosquitto/data/passwd
fi
mosquitto_passwd -b /mosquitto/data/passwd ingest "$MQTT_INGEST_PASSWORD"
chown mosquitto:mosquitto /mosquitto/data/passwd 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
