"""The edge path stays light: Modbus collectors never import the server stack."""

from __future__ import annotations

import subprocess
import sys


def test_modbus_collectors_do_not_import_psycopg_numpy_or_fastapi() -> None:
    code = (
        "import sys, meterhub.collectors.modbus.poller, meterhub.collectors.profiles;"
        "print(','.join(sorted(m for m in ('psycopg', 'numpy', 'fastapi', 'paho') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
