"""The read plan as a field engineer reads it: what goes over the wire, request by request. Pure.

``meterhub read modbus --plan`` prints it without touching the line; ``-v`` prints it before a read
and every transaction after. Each request shows its function, address (hex and decimal), register
count, the values it carries and the request bytes — the whole RTU frame with its CRC, or the PDU
behind the MBAP header on Modbus/TCP — and, on a serial line, the least time the plan occupies it.
"""

from __future__ import annotations

import struct

from meterhub.collectors.modbus.device import Endpoint, span_label
from meterhub.collectors.modbus.planning import Plan, ReadRequest
from meterhub.collectors.modbus.rtu import crc16, transaction_wire_time


def request_bytes(request: ReadRequest, unit_id: int, endpoint: Endpoint) -> str:
    """The request as hex: ``01 04 00 00 00 20 f1 d2`` on a serial line (the RTU frame, CRC
    included), ``unit 01 | 04 00 00 00 20`` on Modbus/TCP (the unit id and the PDU)."""
    pdu = struct.pack(">BHH", request.function.code, request.address, request.count)
    if endpoint.is_serial_line:
        adu = bytes((unit_id,)) + pdu
        return (adu + crc16(adu).to_bytes(2, "little")).hex(" ")
    return f"unit {unit_id:02x} | {pdu.hex(' ')}"


def request_line(request: ReadRequest) -> str:
    """``FC04 input   0x0000 (    0) +32``: function, table, first address and count."""
    return (
        f"FC{request.function.code:02d} {request.function.value:<7} "
        f"0x{request.address:04X} ({request.address:>5}) +{request.count:<3}"
    )


def plan_lines(plan: Plan, unit_id: int, endpoint: Endpoint) -> list[str]:
    """The plan, one line per request, with a heading and the refused registers."""
    values = sum(len(r.spans) for r in plan.requests)
    heading = (
        f"read plan for unit {unit_id} at {endpoint}: {len(plan.requests)} request(s), "
        f"{plan.register_count} registers, {values} value(s)"
    )
    if endpoint.is_serial_line:
        wire = sum(transaction_wire_time(r.count, endpoint.baudrate) for r in plan.requests)
        heading += f", at least {wire * 1000:.0f} ms on the wire at {endpoint.baudrate} Bd"
    lines = [heading]
    for request in plan.requests:
        names = ", ".join(span_label(s.key) for s in request.spans)
        lines.append(f"  {request_line(request)} {names}")
        lines.append(f"  {'':<33}[{request_bytes(request, unit_id, endpoint)}]")
    if plan.unreadable:
        refused = ", ".join(sorted(span_label(s.key) for s in plan.unreadable))
        lines.append(f"  not read (the device refuses them): {refused}")
    return lines
