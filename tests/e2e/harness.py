"""The pieces of the end-to-end harness: where Chromium is, where artifacts go, the app in uvicorn.

The browser is Debian's ``chromium`` driven by Playwright's Python API (``playwright install`` cannot
download browsers here, so the system executable is used). The server is the real app factory
``meterhub.api.app:create_app`` in a ``uvicorn`` child process on a free loopback port, configured
through ``METERHUB_*`` environment variables exactly as ``meterhub serve`` would be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str | None:
    """The Chromium executable: ``$METERHUB_CHROMIUM``, else /usr/bin/chromium, else one on PATH."""
    wanted = os.environ.get("METERHUB_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    if Path(DEFAULT_CHROMIUM).exists():
        return DEFAULT_CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return (
            "no Chromium browser: install Debian's (apt-get install chromium chromium-driver) "
            "or point METERHUB_CHROMIUM at one"
        )
    return None


def artifacts_dir() -> Path:
    """Screenshots and server logs: ``$METERHUB_TEST_ARTIFACTS`` or tests/e2e/artifacts (git-ignored)."""
    path = Path(os.environ.get("METERHUB_TEST_ARTIFACTS") or ROOT / "tests" / "e2e" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_path: Path


@contextlib.contextmanager
def run_app(
    env_overrides: dict[str, str], log_path: Path, *, timeout_s: float = 60.0
) -> Iterator[LiveServer]:
    """Start ``uvicorn meterhub.api.app:create_app --factory`` and yield once it answers HTTP."""
    port = free_port()
    env = {**os.environ, **env_overrides}
    cmd = [
        sys.executable, "-m", "uvicorn", "meterhub.api.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"the app exited with code {proc.returncode} before answering; its log "
                        f"({log_path}):\n{log_path.read_text(errors='replace')[-4000:]}"
                    )
                try:
                    with urllib.request.urlopen(f"{url}/cabinet/login", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no answer on {url} in {timeout_s:.0f} s; see {log_path}")
                time.sleep(0.2)
            yield LiveServer(url, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
