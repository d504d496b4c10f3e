"""A migration file never changes once it is committed: the runner (timeseries/migrate.py) compares each
applied migration's SHA-256 with ``schema_migrations.checksum`` and refuses to start when they differ, so
an edited file — even a comment in it — stops every installed database at its next ``meterhub db
migrate``. A change goes into a new migration instead (e.g. billing 0163 for the triggers of 0103, 0134,
0150 and registry 0400).

Checked against git: every migration file in the working tree must read as it did in the commit that
added it. Outside a git checkout (an installed package) there is no history to compare with.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES

ROOT = Path(__file__).resolve().parents[2]

# Edited after it was committed, before this check existed: compare with the commit of the edit.
# 0300: ('service', 'penalties', 329, …) added ten minutes after the first commit of the file.
ACCEPTED_EDITS = {"src/meterhub/exchange/migrations/0300_gis_exchange.sql": "189054e"}


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)


def _migration_files() -> list[str]:
    files = []
    for source in MIGRATION_SOURCES:
        folder = ROOT / "src" / Path(*source.split(".")) / "migrations"
        files += [str(p.relative_to(ROOT)) for p in sorted(folder.glob("*.sql"))]
    return files


def test_committed_migrations_are_never_edited() -> None:
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout: no history to compare the migration files with")
    files = _migration_files()
    assert len(files) > 50  # every package's migrations were found
    edited = []
    for path in files:
        added = _git("log", "--diff-filter=A", "--format=%H", "--", path).stdout.decode().split()
        if not added:
            continue  # a new migration, not committed yet
        first = ACCEPTED_EDITS.get(path, added[0])
        committed = _git("show", f"{first}:{path}")
        assert committed.returncode == 0, committed.stderr.decode()
        if committed.stdout != (ROOT / path).read_bytes():
            edited.append(path)
    assert edited == [], (
        "applied migrations must not change (installed databases refuse to migrate); restore these files "
        f"and put the change in a new migration: {edited}"
    )
