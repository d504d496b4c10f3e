"""`meterhub simulate modbus` and `meterhub read modbus` end to end, as two processes on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from tests.modbus_oracle import crc

CLI = [sys.executable, "-m", "meterhub.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def test_read_modbus_against_simulate_modbus() -> None:
    sim = subprocess.Popen(
        [
            *CLI,
            "simulate",
            "modbus",
            "--tcp",
            "127.0.0.1:0",
            "-m",
            "eastron-sdm120:2",
            "-m",
            "advantech-adam6051",
            "-f",
            "2:no_answer",
            "--duration",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        match = re.search(r"tcp://127\.0\.0\.1:(\d+)", first)
        assert match, first
        url = f"tcp://127.0.0.1:{match.group(1)}"
        ok = cli("read", "modbus", url, "-p", "eastron-sdm120", "-u", "1")
        assert ok.returncode == 0, ok.stderr
        assert "7 values in 3 requests" in ok.stdout
        assert re.search(r"EASTRON-10001001\s+energy_import_kwh\s+\d+(\.\d+)? kWh", ok.stdout)
        water = cli(
            "read", "modbus", url, "-p", "advantech-adam6051", "-u", "3", "-c", "1=CW17:10", "-c", "2=HW18"
        )
        assert water.returncode == 0, water.stderr
        assert "ADVANTECH-CW17" in water.stdout and "m3" in water.stdout
        dead = cli(
            "read", "modbus", url, "-p", "eastron-sdm120", "-u", "2", "--timeout", "0.2", "--retries", "0"
        )
        assert dead.returncode == 1
        assert "timeout: no answer within 0.2 s" in dead.stderr
        bad = cli("read", "modbus", url, "-p", "no-such-meter")
        assert bad.returncode == 2 and "no profile 'no-such-meter'" in bad.stderr
    finally:
        sim.terminate()
        sim.wait(timeout=10)


# ---- options, precision, refusals and the read plan -------------------------------------------------


def _profile(profile_id: str):
    from meterhub.collectors.modbus.profile import ModbusProfile
    from meterhub.collectors.profiles import get_profile

    profile = get_profile(profile_id)
    assert isinstance(profile, ModbusProfile)
    return profile


@contextlib.contextmanager
def _simulator_thread(meters: list) -> Iterator[str]:
    """The simulator serving Modbus/TCP from a background thread; yields its endpoint URL."""
    from meterhub.simulators.modbus_meters import SimClock
    from meterhub.simulators.modbus_sim import ModbusSimulator

    sim = ModbusSimulator(meters, SimClock(datetime(2026, 1, 12, 6, tzinfo=UTC), speed=0.0))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        port = asyncio.run_coroutine_threadsafe(sim.start_tcp(), loop).result(10)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_bad_options_exit_2_with_a_clear_message_and_no_traceback() -> None:
    cases = [
        (["-p", "carlo-gavazzi-em111"], "has no [serial] register; set 'serial'"),  # no serial register
        (["-p", "advantech-adam6051", "-c", "13=CW1"], "channel 13 is not in profile 'advantech-adam6051'"),
        (["-p", "advantech-adam6051"], "configure at least one"),
        (["-p", "eastron-sdm120", "-c", "one=CW1"], "expected CHANNEL=SERIAL[:FACTOR]"),
        (["-p", "eastron-sdm120", "-c", "1=CW1:ten"], "factor 'ten' is not a number"),
        (["-p", "itron-cyble-mbus"], "is not a Modbus profile"),
        (["-p", "eastron-sdm120", "--timeout", "0"], "timeout: Input should be greater than 0"),
    ]
    for args, message in cases:
        done = cli("read", "modbus", "tcp://127.0.0.1:1", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    rtu_zero = cli("read", "modbus", "rtu:///dev/ttyUSB0", "-u", "0", "-p", "eastron-sdm120")
    assert rtu_zero.returncode == 2 and "unit id 0 on a serial line must be 1…247" in rtu_zero.stderr
    bad_listen = cli("simulate", "modbus", "--tcp", "127.0.0.1:abc", "--duration", "1")
    assert bad_listen.returncode == 2 and "expected HOST:PORT" in bad_listen.stderr
    assert "Traceback" not in bad_listen.stderr


def test_values_are_printed_with_the_registers_full_precision() -> None:
    from meterhub.simulators.modbus_meters import SimulatedModbusMeter

    sdm = SimulatedModbusMeter(_profile("eastron-sdm120"), unit_id=1, serial=31, seed=1)
    sdm.pinned = {(0, "energy_import_kwh"): 12399.75, (0, "voltage_v"): 231.3}  # float32 registers
    em = SimulatedModbusMeter(_profile("carlo-gavazzi-em111"), unit_id=2, serial=32, seed=2)
    em.pinned = {(0, "energy_import_kwh"): 1234567.8}  # INT32 kWh × 10
    with _simulator_thread([sdm, em]) as url:
        a = cli("read", "modbus", url, "-p", "eastron-sdm120", "-u", "1")
        b = cli("read", "modbus", url, "-p", "carlo-gavazzi-em111", "-u", "2", "--serial", "EM-9")
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert re.search(r"EASTRON-31\s+energy_import_kwh\s+12399\.75 kWh", a.stdout), a.stdout
    assert re.search(r"EASTRON-31\s+voltage_v\s+231\.3 V", a.stdout), a.stdout
    assert re.search(r"CARLOGAVAZZI-EM9\s+energy_import_kwh\s+1234567\.8 kWh", b.stdout), b.stdout


def test_refusing_device_through_the_command() -> None:
    from meterhub.simulators.modbus_meters import SimulatedModbusMeter

    no_serial = _profile("eastron-sdm120").model_copy(update={"serial": None})
    named = SimulatedModbusMeter(no_serial, unit_id=1, serial=1, seed=1, reject_unmapped=True)
    refuses_all = SimulatedModbusMeter(_profile("eastron-sdm120"), unit_id=2, serial=2, seed=2)
    refuses_all.faults.exception_code = 2
    with _simulator_thread([named, refuses_all]) as url:
        ok = cli("read", "modbus", url, "-p", "eastron-sdm120", "-u", "1")
        nothing = cli("read", "modbus", url, "-p", "eastron-sdm120", "-u", "2")
    assert ok.returncode == 0 and "7 values" in ok.stdout and "EASTRON-unit1" in ok.stdout
    assert "note: serial register refused (exception 02)" in ok.stderr
    assert "not read (refused by the device, exception 02): serial" in ok.stderr
    assert nothing.returncode == 1 and "no_values: the device answered, but no value" in nothing.stderr


def test_the_read_plan_shows_what_goes_over_the_wire() -> None:
    shown = cli(
        "read", "modbus", "rtu:///dev/no-such-tty?baudrate=9600", "-p", "eastron-sdm120", "-u", "12", "--plan"
    )
    assert shown.returncode == 0, shown.stderr  # nothing was opened or sent
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("read plan for unit 12 at rtu:///dev/no-such-tty")
    assert "3 request(s)" in lines[0]
    for function, address, count in ((3, 0xFC00, 2), (4, 0x0000, 32), (4, 0x0046, 6)):
        frame = bytes((12, function)) + address.to_bytes(2, "big") + count.to_bytes(2, "big")
        assert f"[{(frame + crc(frame)).hex(' ')}]" in shown.stdout
    values = "frequency_hz, energy_import_kwh, energy_export_kwh"
    assert re.search(r"FC04 input\s+0x0046 \(\s*70\) \+6\s+" + values, shown.stdout)
    from meterhub.simulators.modbus_meters import SimulatedModbusMeter

    sdm = SimulatedModbusMeter(_profile("eastron-sdm120"), unit_id=1, serial=31, seed=1, reject_unmapped=True)
    with _simulator_thread([sdm]) as url:
        verbose = cli("read", "modbus", url, "-p", "eastron-sdm120", "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "[unit 01 | 04 00 00 00 20]" in verbose.stdout
    # the strict meter refuses the read across reserved registers: the re-plan is visible
    refused = r"FC04 input\s+0x0000 \(\s*0\) \+32\s+attempt 1: exception: exception 02"
    assert re.search(refused, verbose.stdout)
    assert re.search(r"FC04 input\s+0x0000 \(\s*0\) \+2\s+attempt 1: ok", verbose.stdout)
