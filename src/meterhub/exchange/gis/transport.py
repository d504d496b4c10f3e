"""Signing and sending: one interface an installation plugs its own signer/sender into.

ГИС ЖКХ accepts only messages signed with XAdES-BES by a qualified certificate (ГОСТ Р 34.10-2012) and sent
over TLS with ГОСТ cipher suites from an accredited connection — that needs a CryptoPro-class provider and
cannot run inside meterhub. So meterhub builds and validates the envelope, and an installation provides a
:class:`GisTransport` (e.g. a wrapper around CryptoPro JCP, a signing service, or an SMEV adapter), named in
``METERHUB_GIS_TRANSPORT`` as ``package.module:factory``. Without one, :func:`load_transport` refuses with a
message saying so: meterhub never reports a message as sent that was not.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic_settings import BaseSettings, SettingsConfigDict

from meterhub.exchange.gis.envelope import Operation

__all__ = ["GisSettings", "GisTransport", "SendResult", "TransportNotConfigured", "load_transport"]


class GisSettings(BaseSettings):
    """``METERHUB_GIS_*`` settings of an installation."""

    model_config = SettingsConfigDict(env_prefix="METERHUB_GIS_", env_file=None, extra="ignore")

    transport: str | None = None
    """``package.module:factory`` returning a :class:`GisTransport`; None = no signer/sender plugged in."""
    org_ppa_guid: uuid.UUID | None = None
    """The organisation's identifier in ГИС ЖКХ (orgPPAGUID of the RequestHeader)."""
    executor_guid: uuid.UUID | None = None
    """The employee (executorGUID) in whose name debt-request answers are given."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the operator acknowledged: its MessageGUID of the AckRequest."""

    ack_message_guid: uuid.UUID


@runtime_checkable
class GisTransport(Protocol):
    """An installation's signer and sender."""

    def sign(self, envelope: bytes) -> bytes:
        """Return the envelope with an XAdES-BES signature of the element ``Id="signed-data-container"``."""
        ...

    def send(self, operation: Operation, signed: bytes) -> SendResult:
        """POST the signed envelope to ``operation.endpoint`` with SOAPAction ``operation.soap_action``;
        return the acknowledgement or raise on refusal."""
        ...


class TransportNotConfigured(RuntimeError):
    pass


def load_transport(spec: str | None) -> GisTransport:
    """The installation's transport from ``package.module:factory`` (the factory is called with no args)."""
    if not spec:
        raise TransportNotConfigured(
            "no ГИС ЖКХ signer/sender is configured: "
            "set METERHUB_GIS_TRANSPORT=package.module:factory to the "
            "installation's signer (XAdES-BES with a qualified certificate, ГОСТ TLS; see docs/gis-zhkh.md); "
            "the message files are valid and can also be uploaded by another system"
        )
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise TransportNotConfigured(f"METERHUB_GIS_TRANSPORT={spec!r} must be 'package.module:factory'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise TransportNotConfigured(f"METERHUB_GIS_TRANSPORT={spec!r}: {exc}") from None
    transport = factory()
    if not isinstance(transport, GisTransport):
        raise TransportNotConfigured(f"{spec} returned {type(transport).__name__}, which has no sign/send")
    return transport
