"""`meterhub servicedesk executor|route|link|escalate|notify|poll-mail` in a subprocess, against a real
database: the executor and route set up from the command line route a request registered afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.cli.meterhub_cli import run_cli

pytestmark = pytest.mark.db


def test_servicedesk_commands(db_url: str, tmp_path: Path) -> None:
    from meterhub.servicedesk.requests_store import NewRequest, register_request
    from tests.billing.money_data import add_building

    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn, "CL", {"CL-1": "1"})
        conn.execute(
            "INSERT INTO api_users (username, password_hash, role) VALUES ('aqua', 'x', 'contractor')"
        )
    out = run_cli(db_url, tmp_path, "servicedesk", "executor", "Аквасервис", "--email", "aqua@uk.test")
    assert out.returncode == 0, out.stderr
    assert run_cli(db_url, tmp_path, "servicedesk", "route", "fault", "Аквасервис").returncode == 0
    bad = run_cli(db_url, tmp_path, "servicedesk", "route", "nonsense", "Аквасервис")
    assert bad.returncode == 1 and "unknown category" in bad.stderr
    assert run_cli(db_url, tmp_path, "servicedesk", "link", "aqua", "Аквасервис").returncode == 0
    assert run_cli(db_url, tmp_path, "servicedesk", "link", "nobody", "Аквасервис").returncode == 1
    with psycopg.connect(db_url) as conn:
        new = NewRequest("phone", "fault", "течь", account_no="CL-1")
        rid = register_request(conn, new, datetime.now(UTC))
        conn.commit()
        executor = conn.execute(
            "SELECT x.name FROM api_requests r JOIN sd_executors x USING (executor_id) WHERE request_id = %s",
            (rid,),
        ).fetchone()
        linked = conn.execute(
            "SELECT x.name FROM sd_executor_users JOIN sd_executors x USING (executor_id)"
            " JOIN api_users u USING (user_id) WHERE u.username = 'aqua'"
        ).fetchone()
    assert executor == ("Аквасервис",) and linked == ("Аквасервис",)
    out = run_cli(db_url, tmp_path, "servicedesk", "escalate")
    assert out.returncode == 0 and "escalated: 0" in out.stdout
    # No SMTP configured: the assignment e-mail waits in the outbox.
    out = run_cli(db_url, tmp_path, "servicedesk", "notify")
    assert out.returncode == 0 and "sent: 0" in out.stdout
    out = run_cli(db_url, tmp_path, "servicedesk", "poll-mail")
    assert out.returncode == 2 and "METERHUB_SERVICEDESK_IMAP_HOST" in out.stderr
