"""Background jobs: import, close and receipts batch run in the server's job thread with progress."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World

pytestmark = pytest.mark.db


def _finish(client: TestClient, world: World, job_id: str, timeout: float = 120) -> dict:
    client.app.state.jobs.wait(job_id, timeout=timeout)
    r = client.get(f"/api/v1/jobs/{job_id}", headers=world.auth("acc"))
    assert r.status_code == 200, r.text
    return r.json()


def test_import_job_imports_an_uploaded_file(client: TestClient, world: World) -> None:
    csv = (
        "account,building,premise,share,owner,owners,opened_on,closed_on\n"
        "LS-10,B2,9,0.5,Новиков Н. Н.,1,2024-01-01,\n"
    )
    r = client.post(
        "/api/v1/jobs/import",
        files=[("files", ("accounts.csv", csv.encode(), "text/csv"))],
        headers=world.auth("acc"),
    )
    assert r.status_code == 202, r.text
    job = _finish(client, world, r.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["files"] == [
        {"file": "accounts.csv", "entity": "accounts", "rows": 1, "inserted": 1, "updated": 0}
    ]
    assert (job["progress_done"], job["progress_total"]) == (1, 1)
    assert "folder" not in job["params"]  # server paths are not shown
    assert (
        client.get("/api/v1/accounts/LS-10", headers=world.auth("acc")).json()["owner_name"]
        == "Новиков Н. Н."
    )


def test_import_job_with_a_bad_file_fails_with_the_problems(client: TestClient, world: World) -> None:
    csv = "account,building,premise,share,owner,owners,opened_on,closed_on\nLS-11,NOPE,9,1,X,1,2024-01-01,\n"
    r = client.post(
        "/api/v1/jobs/import",
        files=[("files", ("accounts.csv", csv.encode(), "text/csv"))],
        headers=world.auth("acc"),
    )
    job = _finish(client, world, r.json()["job_id"])
    assert job["status"] == "failed"
    assert "accounts.csv: row 2" in job["error"]


@pytest.mark.parametrize("name", ["../accounts.csv.exe", "notes.txt", "whatever.csv"])
def test_import_rejects_bad_file_names_with_422(client: TestClient, world: World, name: str) -> None:
    r = client.post(
        "/api/v1/jobs/import", files=[("files", (name, b"x", "text/csv"))], headers=world.auth("acc")
    )
    assert r.status_code == 422
    assert "file" in r.json()["detail"]


def test_close_job_reports_progress_and_totals(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/jobs/close", json={"period": "2026-01", "building_ids": ["B1"]}, headers=world.auth("root")
    )
    assert r.status_code == 202
    job = _finish(client, world, r.json()["job_id"])
    assert job["status"] == "succeeded", job
    (b1,) = job["result"]["buildings"]
    # the small building's January: 12013.00 over 3 accounts (tests/billing/test_close.py)
    assert (b1["building"], b1["status"], b1["accounts"], b1["total"]) == ("B1", "draft", 3, "12013.00")
    assert (job["progress_done"], job["progress_total"]) == (1, 1)
    assert job["kind"] == "close" and job["created_by"] == "root"


def test_close_job_validation(client: TestClient, world: World) -> None:
    acc = world.auth("acc")
    bad = client.post("/api/v1/jobs/close", json={"period": "2026-1"}, headers=acc)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "period"]
    unknown = client.post(
        "/api/v1/jobs/close", json={"period": "2026-01", "building_ids": ["ZZ"]}, headers=acc
    )
    assert unknown.status_code == 422 and "ZZ" in unknown.json()["detail"]
    assert (
        client.post("/api/v1/jobs/close", json={"period": "2026-01", "workers": 99}, headers=acc).status_code
        == 422
    )


def test_receipts_job_makes_a_zip_to_download(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/jobs/receipts", json={"period": "2026-01", "building_ids": ["B1"]}, headers=world.auth("acc")
    )
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    job = _finish(client, world, job_id)
    assert job["status"] == "succeeded", job
    assert job["result"]["receipts"] == 3
    z = client.get(f"/api/v1/jobs/{job_id}/receipts.zip", headers=world.auth("acc"))
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(BytesIO(z.content)).namelist()
    assert any(n.endswith(".pdf") for n in names)
    assert "link_secret" not in str(job["params"])


def test_jobs_are_staff_only_and_unknown_jobs_404(client: TestClient, world: World) -> None:
    for who in ("alice", "eng"):
        assert (
            client.post("/api/v1/jobs/close", json={"period": "2026-01"}, headers=world.auth(who)).status_code
            == 403
        )
        assert client.get("/api/v1/jobs", headers=world.auth(who)).status_code == 403
    assert (
        client.get("/api/v1/jobs/7c9e6679-7425-40de-944b-e07fc1f90ae7", headers=world.auth("acc")).status_code
        == 404
    )
    assert client.get("/api/v1/jobs/not-a-uuid", headers=world.auth("acc")).status_code == 422
    listed = client.get("/api/v1/jobs", headers=world.auth("acc")).json()
    assert listed and listed[0]["created_at"] >= listed[-1]["created_at"]


def test_jobs_left_running_by_a_stopped_server_are_marked_failed(world: World) -> None:
    from meterhub.api.jobs_runner import JobRunner
    from meterhub.timeseries.database import connect

    with connect(world.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO api_jobs (job_id, kind, status) VALUES ('00000000-0000-0000-0000-000000000001', "
            "'close', 'running')"
        )
    JobRunner(world.url).shutdown()
    with connect(world.url) as conn:
        status, error = conn.execute(
            "SELECT status, error FROM api_jobs WHERE job_id = '00000000-0000-0000-0000-000000000001'"
        ).fetchone()
    assert status == "failed" and "server restarted" in error
