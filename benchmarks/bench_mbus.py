"""M-Bus benchmarks: the pure decoder, and a read-out of 20 meters at 2400 Bd over a pty.

Run: ``.venv/bin/python benchmarks/bench_mbus.py [--meters 20] [--baudrate 2400] [--scan]``

1. Decoder — real RSP_UD telegrams (tests/data/mbus, libmbus test data) through
   ``decode_frame`` + ``decode_telegram``: telegrams/s and records/s of CPU time (the machine is
   shared: wall time would measure the neighbours); as the baseline of the same run, pyMeterBus
   (the peer decoder of the tests, dev extra) on the telegrams it can decode.
2. Read-out — N simulated meters (heat meters answer in two telegrams) on one pseudo-terminal
   paced at the baud rate. The wire limit is what the bytes themselves need: every byte the
   master sent and received × 11 bits / baud, plus the slave answer delay per exchange
   (11 bit times, the EN 13757-2 minimum; in the last row 330 bit times + 50 ms, the maximum).
   Ratio = measured / limit.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from meterhub.collectors.mbus import decode_frame, decode_telegram
from meterhub.collectors.mbus.master import MbusMaster
from meterhub.collectors.mbus.scan import scan_secondary
from meterhub.collectors.mbus.transport import LineSettings, SerialTransport
from meterhub.simulators.mbus_meters import demo_meters
from meterhub.simulators.mbus_sim import MbusLine, PtyMbusServer

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "mbus"


def _frames() -> list[bytes]:
    return [bytes.fromhex(p.read_text()) for p in sorted(DATA.glob("*.hex"))]


def bench_decoder(seconds: float = 2.0, frames: list[bytes] | None = None) -> tuple[float, float, int]:
    frames = _frames() if frames is None else frames
    count = records = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for raw in frames:
            frame = decode_frame(raw)
            records += len(decode_telegram(frame.ci, frame.data).records)
        count += len(frames)
    elapsed = time.process_time() - started
    return count / elapsed, records / elapsed, len(frames)


def bench_peer(seconds: float = 2.0) -> tuple[float, float, int] | None:
    """Ours and pyMeterBus on the telegrams pyMeterBus decodes: (ours/s, peer/s, telegrams)."""
    try:
        import meterbus
    except ImportError:
        return None
    frames = []
    for raw in _frames():
        try:
            meterbus.load(raw).records  # noqa: B018 - the records are decoded lazily
        except Exception:  # a telegram the peer cannot decode (fixed structure, …)
            continue
        frames.append(raw)
    count = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for raw in frames:
            meterbus.load(raw).records  # noqa: B018
        count += len(frames)
    peer = count / (time.process_time() - started)
    ours = bench_decoder(seconds, frames)[0]
    return ours, peer, len(frames)


def bench_readout(meters: int, baudrate: int, reset: bool, slow_slaves: bool = False) -> dict[str, float]:
    heat = meters * 2 // 5
    line = MbusLine(demo_meters(heat, meters - heat, datetime.now(UTC)))
    # EN 13757-2 answer delay: 11 bit times minimum; 330 bit times + 50 ms maximum.
    delay_s = (330 / baudrate + 0.05) if slow_slaves else 11 / baudrate
    delay_bits = delay_s * baudrate
    with (
        PtyMbusServer(line, baudrate=baudrate, answer_delay_s=delay_s) as server,
        SerialTransport(server.device, LineSettings(baudrate=baudrate)) as transport,
    ):
        master = MbusMaster(transport)
        if not reset:  # link reset once up front, not counted
            for address in range(1, meters + 1):
                master.ping(address)
            transport.sent_bytes = transport.received_bytes = transport.exchanges = 0
        telegrams = 0
        started = time.perf_counter()
        for address in range(1, meters + 1):
            telegrams += len(master.read(address, reset=reset).telegrams)
        elapsed = time.perf_counter() - started
        wire = (
            (transport.sent_bytes + transport.received_bytes) * 11 + transport.exchanges * delay_bits
        ) / baudrate
        return {
            "meters": meters,
            "telegrams": telegrams,
            "exchanges": transport.exchanges,
            "bytes": transport.sent_bytes + transport.received_bytes,
            "measured_s": elapsed,
            "wire_s": wire,
        }


def bench_scan(meters: int, baudrate: int) -> dict[str, float]:
    heat = meters * 2 // 5
    line = MbusLine(demo_meters(heat, meters - heat, datetime.now(UTC)))
    with (
        PtyMbusServer(line, baudrate=baudrate, answer_delay_s=11 / baudrate) as server,
        SerialTransport(server.device, LineSettings(baudrate=baudrate)) as transport,
    ):
        started = time.perf_counter()
        result = scan_secondary(MbusMaster(transport))
        return {
            "found": len(result.found),
            "selections": result.selections,
            "collisions": result.collisions,
            "seconds": time.perf_counter() - started,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=20)
    parser.add_argument("--baudrate", type=int, default=2400)
    parser.add_argument("--scan", action="store_true", help="also time a secondary scan of the line")
    args = parser.parse_args()

    per_s, records_s, n = bench_decoder()
    print(f"decoder: {per_s:,.0f} telegrams/s, {records_s:,.0f} records/s ({n} real telegrams, pure Python)")
    peer = bench_peer()
    if peer is not None:
        ours, theirs, both = peer
        print(
            f"         {ours:,.0f} telegrams/s vs pyMeterBus {theirs:,.0f} telegrams/s "
            f"on the {both} it parses — ratio {ours / theirs:.2f}"
        )
    print()
    print(f"read-out of {args.meters} meters at {args.baudrate} Bd over a pty (simulator paces the line)")
    head = ("mode", "telegrams", "exchanges", "bytes", "measured s", "wire s", "ratio")
    print(f"{head[0]:<28}{head[1]:>10}{head[2]:>10}{head[3]:>8}{head[4]:>12}{head[5]:>9}{head[6]:>7}")
    modes = (
        ("SND_NKE + REQ_UD2 per meter", True, False),
        ("REQ_UD2 only", False, False),
        ("REQ_UD2, slowest slaves", False, True),
    )
    for label, reset, slow in modes:
        r = bench_readout(args.meters, args.baudrate, reset, slow)
        print(
            f"{label:<28}{r['telegrams']:>10}{r['exchanges']:>10}{r['bytes']:>8}"
            f"{r['measured_s']:>12.2f}{r['wire_s']:>9.2f}{r['measured_s'] / r['wire_s']:>7.2f}"
        )
    if args.scan:
        s = bench_scan(args.meters, args.baudrate)
        print()
        print(
            f"secondary scan: {s['found']} meters, {s['selections']} selections, "
            f"{s['collisions']} collisions, {s['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
