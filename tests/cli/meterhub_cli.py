"""Run the `meterhub` command in a subprocess against a test database (shared by the CLI tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SMALL = Path(__file__).parent.parent / "data" / "billing" / "small"


def run_cli(db_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(data_dir),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "meterhub.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
