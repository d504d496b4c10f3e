"""A stand-in for an installation's signer/sender, for the CLI tests only: ГОСТ TLS, a qualified
certificate and ГИС ЖКХ cannot run here, so this records what it was given and acknowledges it (or
refuses when METERHUB_TEST_GIS_REFUSE is set)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from meterhub.exchange.gis.envelope import Operation
from meterhub.exchange.gis.transport import SendResult

ACK = uuid.UUID("abcdefab-cdef-4abc-8def-abcdefabcdef")


class RecordingTransport:
    def __init__(self) -> None:
        self.folder = Path(os.environ["METERHUB_TEST_GIS_SENT"])

    def sign(self, envelope: bytes) -> bytes:
        return envelope.replace(b"<soapenv:Header>", b"<soapenv:Header><!-- signed by the test -->", 1)

    def send(self, operation: Operation, signed: bytes) -> SendResult:
        if os.environ.get("METERHUB_TEST_GIS_REFUSE"):
            raise ConnectionError("TLS handshake refused")
        (self.folder / f"{operation.name}.xml").write_bytes(signed)
        (self.folder / f"{operation.name}.action").write_text(f"{operation.soap_action} {operation.endpoint}")
        return SendResult(ACK)


def create() -> RecordingTransport:
    return RecordingTransport()
