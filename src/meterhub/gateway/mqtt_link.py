"""The connection to the broker: paho-mqtt 2.x in its own network thread, events handed to asyncio.

* MQTT 5 first; with ``protocol = "auto"`` a broker that answers "unsupported protocol version",
  or accepts the TCP connection but never answers an MQTT 5 CONNECT (amqtt does that when a will is
  set), gets MQTT 3.1.1 from the next attempt on — as long as MQTT 5 never worked with it.
* The LWT is the retained ``offline`` status on the gateway's status topic.
* paho reconnects by itself with exponential backoff (``reconnect_min`` … ``reconnect_max``) and
  re-sends QoS 1 messages that were in flight when the connection broke.
* On every connect it subscribes (QoS 1) to the owner's ``subscriptions`` — the gateway's commit
  acknowledgement topic — before anything is published on that connection, so no acknowledgement of
  a batch sent on it can pass by unheard. A refused subscription is logged as an error.
* A PUBACK with 0x10 "no matching subscribers" is reported as *not* delivered: nobody took it.
* Username/password (or a password file) and TLS (CA file, client certificate, insecure flag).

paho calls back in its network thread; every event is forwarded with ``loop.call_soon_threadsafe``
to the owner's handlers, which therefore run on the event loop next to the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from meterhub.gateway.config import MqttSection

log = logging.getLogger(__name__)

UNSUPPORTED_PROTOCOL = 0x84  # MQTT 5 CONNACK reason (paho maps 3.1.1's return code 1 to it)
NO_MATCHING_SUBSCRIBERS = 0x10  # MQTT 5 PUBACK reason: accepted, but routed to nobody


@dataclass
class LinkHandlers:
    """What the owner wants to hear about (called on the event loop)."""

    connected: Callable[[], None]
    disconnected: Callable[[str], None]
    published: Callable[[int, bool, str], None]  # mid, delivered, reason
    protocol_changed: Callable[[], None]  # the client was replaced: in-flight messages are gone
    message: Callable[[str, bytes], None] = lambda topic, payload: None  # on a subscribed topic


class MqttLink:
    """One paho client for the gateway: connect, publish QoS 1, forward acks."""

    def __init__(
        self,
        config: MqttSection,
        client_id: str,
        will_topic: str,
        will_payload: bytes,
        handlers: LinkHandlers,
        loop: asyncio.AbstractEventLoop,
        subscriptions: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.subscriptions = subscriptions
        self.client_id = client_id
        self.will_topic = will_topic
        self.will_payload = will_payload
        self.handlers = handlers
        self.loop = loop
        self.protocol = mqtt.MQTTv311 if config.protocol == "3.1.1" else mqtt.MQTTv5
        self.connected = False
        self.last_error: str | None = None
        self._client: mqtt.Client | None = None
        self._stopping = False
        self._connack = False  # a CONNACK arrived in the current attempt (paho thread only)
        self._ever_connected = False

    @property
    def protocol_name(self) -> str:
        return "5" if self.protocol == mqtt.MQTTv5 else "3.1.1"

    def start(self) -> None:
        """Connect in the background (paho's thread); returns at once, retries until ``stop``."""
        self._client = self._make_client()
        self._client.connect_async(self.config.host, self.config.port, self._keepalive())
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        """Publish at QoS 1; the mid, or None when paho refused (not connected)."""
        client = self._client
        if client is None or not self.connected:
            return None
        info = client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        return info.mid

    def stop(self) -> None:
        """Disconnect cleanly (no LWT) and stop the network thread."""
        self._stopping = True
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        _stop_network_thread(client, wait=3.0)
        self.connected = False

    # --- paho side (network thread) -------------------------------------------------------------
    def _keepalive(self) -> int:
        return max(5, int(self.config.keepalive.total_seconds()))

    def _make_client(self) -> mqtt.Client:
        c = self.config
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=self.protocol,
            **({"clean_session": True} if self.protocol == mqtt.MQTTv311 else {}),
        )
        client.reconnect_delay_set(
            max(1, int(c.reconnect_min.total_seconds())), max(1, int(c.reconnect_max.total_seconds()))
        )
        client.max_inflight_messages_set(max(20, c.max_inflight + 2))  # + status messages
        client.will_set(self.will_topic, self.will_payload, qos=1, retain=True)
        if c.username is not None:
            client.username_pw_set(c.username, c.resolved_password())
        if c.uses_tls:
            tls = c.tls
            client.tls_set(
                ca_certs=str(tls.ca_file) if tls and tls.ca_file else None,
                certfile=str(tls.cert_file) if tls and tls.cert_file else None,
                keyfile=str(tls.key_file) if tls and tls.key_file else None,
                cert_reqs=ssl.CERT_NONE if tls and tls.insecure else ssl.CERT_REQUIRED,
            )
            if tls and tls.insecure:
                client.tls_insecure_set(True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _call(self, fn: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the gateway is shutting down
            self.loop.call_soon_threadsafe(fn, *args)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connack = True
        if not reason_code.is_failure:
            self._ever_connected = True
            if self.subscriptions:  # sent before any publish of this connection (see the module)
                client.subscribe([(topic, 1) for topic in self.subscriptions])
            self._call(self._connected)
            return
        reason = str(reason_code)
        if (
            reason_code.value == UNSUPPORTED_PROTOCOL
            and self.config.protocol == "auto"
            and (self.protocol == mqtt.MQTTv5)
        ):
            self._call(self._fall_back)
            return
        self._call(self._refused, reason)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        silent_broker = not self._connack and not self._ever_connected
        self._connack = False
        if silent_broker and self.config.protocol == "auto" and self.protocol == mqtt.MQTTv5:
            self.last_error = f"no answer to an MQTT 5 CONNECT ({reason_code})"
            self._call(self._fall_back)
            return
        self._call(self._disconnected, str(reason_code))

    def _on_connect_fail(self, client, userdata) -> None:
        self._call(self._disconnected, "cannot reach the broker")

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        delivered = not reason_code.is_failure and reason_code.value != NO_MATCHING_SUBSCRIBERS
        self._call(self.handlers.published, mid, delivered, str(reason_code))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            log.error(
                "broker %s refused the subscription to %s (%s): the gateway cannot learn which batches "
                "are stored and keeps re-sending them; allow the gateway to read its commits topic in "
                "the broker ACL (meterhub gateways broker-config)",
                self.config.url,
                ", ".join(self.subscriptions),
                ", ".join(refused),
            )

    def _on_message(self, client, userdata, msg) -> None:
        self._call(self.handlers.message, msg.topic, bytes(msg.payload))

    # --- event loop side ------------------------------------------------------------------------
    def _connected(self) -> None:
        self.connected = True
        self.last_error = None
        log.info("connected to %s (MQTT %s) as %s", self.config.url, self.protocol_name, self.client_id)
        self.handlers.connected()

    def _disconnected(self, reason: str) -> None:
        was = self.connected
        self.connected = False
        if self._stopping:
            return
        if was or self.last_error is None:
            self.last_error = reason
        if was:
            log.warning("lost the broker %s: %s; reconnecting with backoff", self.config.url, reason)
        self.handlers.disconnected(reason)

    def _refused(self, reason: str) -> None:
        message = f"broker refused the connection: {reason}"
        if self.last_error == message:  # logged once per reason, not at every retry
            return
        self.last_error = message
        log.error(
            "broker %s refused the connection: %s (check username, password and ACL)", self.config.url, reason
        )

    def _fall_back(self) -> None:
        if self._stopping or self.protocol == mqtt.MQTTv311:
            return
        log.warning("broker %s does not speak MQTT 5; falling back to MQTT 3.1.1", self.config.url)
        old, self._client = self._client, None
        if old is not None:
            _stop_network_thread(old, wait=0)
        self.protocol = mqtt.MQTTv311
        self.connected = False
        self.handlers.protocol_changed()
        self.start()


def _stop_network_thread(client: mqtt.Client, wait: float) -> None:
    """Stop paho's network thread without letting a broker that hangs mid-handshake block us:
    ``loop_stop`` joins a thread that may sit in a blocking reconnect; its thread is a daemon."""
    stopper = threading.Thread(target=client.loop_stop, name="mqtt-stop", daemon=True)
    stopper.start()
    if wait:
        stopper.join(wait)
