"""`meterhub simulate modbus` and `meterhub read modbus` end to end, as two processes on a real socket."""

from __future__ import annotations

import re
import subprocess
import sys

CLI = [sys.executable, "-m", "meterhub.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def test_read_modbus_against_simulate_modbus() -> None:
    sim = subprocess.Popen(
        [*CLI, "simulate", "modbus", "--tcp", "127.0.0.1:0", "-m", "eastron-sdm120:2",
         "-m", "advantech-adam6051", "-f", "2:no_answer", "--duration", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
        water = cli("read", "modbus", url, "-p", "advantech-adam6051", "-u", "3",
                    "-c", "1=CW17:10", "-c", "2=HW18")
        assert water.returncode == 0, water.stderr
        assert "ADVANTECH-CW17" in water.stdout and "m3" in water.stdout
        dead = cli("read", "modbus", url, "-p", "eastron-sdm120", "-u", "2",
                   "--timeout", "0.2", "--retries", "0")
        assert dead.returncode == 1
        assert "timeout: no answer within 0.2 s" in dead.stderr
        bad = cli("read", "modbus", url, "-p", "no-such-meter")
        assert bad.returncode == 2 and "no profile 'no-such-meter'" in bad.stderr
    finally:
        sim.terminate()
        sim.wait(timeout=10)
