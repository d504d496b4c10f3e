"""Background jobs for accountants and admins: import files, close a period, print a receipts batch.

``POST`` answers 202 with the job id at once; ``GET /jobs/{job_id}`` shows status and progress; a finished
receipts batch is downloaded as one ZIP.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Path, Request, UploadFile, status
from fastapi.responses import FileResponse
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api import job_kinds
from meterhub.api.deps import Conn, get_settings, require_role
from meterhub.api.roles import Role, User
from meterhub.core.settings import Settings

router = APIRouter(tags=["jobs"])

_staff = require_role(Role.ACCOUNTANT, Role.ADMIN)
Staff = Annotated[User, Depends(_staff)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JobId = Annotated[uuid.UUID, Path(description="job id from the POST that started it")]
IMPORT_MAX_BYTES = 50 * 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class JobStarted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"job_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}]}
    )

    job_id: uuid.UUID
    status_url: str


class JobOut(BaseModel):
    job_id: uuid.UUID
    kind: str = Field(description="import, close or receipts")
    status: str = Field(description="queued, running, succeeded or failed")
    progress_done: int
    progress_total: int | None
    message: str = Field(description="the step being worked on")
    params: dict[str, Any]
    result: Any | None
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CloseIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"period": "2026-01", "building_ids": ["B1"], "final": False}]}
    )

    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="billing period YYYY-MM")
    building_ids: list[str] = Field(
        default_factory=list, max_length=10000, description="empty: all buildings"
    )
    final: bool = Field(default=False, description="close the period for good (immutable); default: a draft")
    workers: int = Field(default=1, ge=1, le=8, description="worker processes")


class ReceiptsIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"period": "2026-01", "building_ids": []}]})

    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="billing period YYYY-MM")
    building_ids: list[str] = Field(default_factory=list, max_length=10000, description="empty: all computed")


def _runner(request: Request):
    return request.app.state.jobs


def _started(job_id: str) -> JobStarted:
    return JobStarted(job_id=uuid.UUID(job_id), status_url=f"/api/v1/jobs/{job_id}")


def _unknown_buildings(conn, building_ids: list[str]) -> list[str]:
    if not building_ids:
        return []
    known = {
        r[0]
        for r in conn.execute(
            "SELECT building_id FROM buildings WHERE building_id = ANY(%s)", (building_ids,)
        ).fetchall()
    }
    return sorted(set(building_ids) - known)


@router.post(
    "/jobs/import",
    summary="Import CSV/XLSX files (buildings, premises, accounts, meters, tariffs, ...) in the background",
    response_model=JobStarted,
    status_code=status.HTTP_202_ACCEPTED,
)
def start_import(
    request: Request,
    user: Staff,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="files named after their entity, e.g. accounts.csv")],
) -> JobStarted:
    staged = settings.data_dir / "uploads" / uuid.uuid4().hex
    names = []
    for upload in files:
        name = FsPath(upload.filename or "").name
        if not _SAFE_NAME.match(name) or FsPath(name).suffix.lower() not in (".csv", ".xlsx"):
            raise HTTPException(
                422, f"file {name!r}: use a .csv or .xlsx name of latin letters, digits, _ . -"
            )
        if job_kinds.entity_of(name) is None:
            raise HTTPException(422, f"file {name!r}: the name must start with the entity, e.g. accounts.csv")
        if name in names:
            raise HTTPException(422, f"file {name!r} is given twice")
        data = upload.file.read(IMPORT_MAX_BYTES + 1)
        if len(data) > IMPORT_MAX_BYTES:
            raise HTTPException(413, f"file {name!r} is larger than {IMPORT_MAX_BYTES // 2**20} MiB")
        staged.mkdir(parents=True, exist_ok=True)
        (staged / name).write_bytes(data)
        names.append(name)
    job_id = _runner(request).submit(
        "import", {"folder": str(staged), "files": names}, job_kinds.run_import_job, user.id
    )
    return _started(job_id)


@router.post(
    "/jobs/close",
    summary="Compute (draft) or close (final) a billing period for some or all buildings in the background",
    response_model=JobStarted,
    status_code=status.HTTP_202_ACCEPTED,
)
def start_close(body: CloseIn, request: Request, user: Staff, conn: Conn) -> JobStarted:
    unknown = _unknown_buildings(conn, body.building_ids)
    if unknown:
        raise HTTPException(422, f"unknown building(s): {', '.join(unknown)}")
    job_id = _runner(request).submit("close", body.model_dump(), job_kinds.run_close_job, user.id)
    return _started(job_id)


@router.post(
    "/jobs/receipts",
    summary="Print the receipts (ЕПД) of a period as a batch: PDFs per building, register, one ZIP",
    response_model=JobStarted,
    status_code=status.HTTP_202_ACCEPTED,
)
def start_receipts(
    body: ReceiptsIn, request: Request, user: Staff, conn: Conn, settings: SettingsDep
) -> JobStarted:
    unknown = _unknown_buildings(conn, body.building_ids)
    if unknown:
        raise HTTPException(422, f"unknown building(s): {', '.join(unknown)}")
    out_dir = settings.data_dir / "receipts" / body.period / uuid.uuid4().hex
    work = functools.partial(job_kinds.run_receipts_job, link_secret=settings.secret_key)
    job_id = _runner(request).submit(
        "receipts", {**body.model_dump(), "out_dir": str(out_dir)}, work, user.id
    )
    return _started(job_id)


_SELECT = """
SELECT j.job_id, j.kind, j.status, j.progress_done, j.progress_total, j.message, j.params, j.result, j.error,
       u.username AS created_by, j.created_at, j.started_at, j.finished_at
  FROM api_jobs j LEFT JOIN api_users u ON u.user_id = j.created_by
"""


def _public_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in ("folder", "out_dir")}


@router.get(
    "/jobs", summary="Recent jobs, newest first", response_model=list[JobOut], dependencies=[Depends(_staff)]
)
def list_jobs(conn: Conn) -> list[JobOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_SELECT + " ORDER BY j.created_at DESC LIMIT 100").fetchall()
    return [JobOut(**{**r, "params": _public_params(r["params"])}) for r in rows]


def _job(conn, job_id: uuid.UUID) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SELECT + " WHERE j.job_id = %s", (job_id,)).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} not found")
    return row


@router.get(
    "/jobs/{job_id}",
    summary="Status and progress of a job; its result or error when finished",
    response_model=JobOut,
    dependencies=[Depends(_staff)],
)
def get_job(job_id: JobId, conn: Conn) -> JobOut:
    row = _job(conn, job_id)
    return JobOut(**{**row, "params": _public_params(row["params"])})


@router.get(
    "/jobs/{job_id}/receipts.zip",
    summary="The ZIP of a finished receipts batch (PDFs and the register)",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}, 404: {"description": "no such file"}},
    dependencies=[Depends(_staff)],
)
def download_receipts(job_id: JobId, conn: Conn) -> FileResponse:
    row = _job(conn, job_id)
    if row["kind"] != "receipts" or row["status"] != "succeeded" or not (row["result"] or {}).get("zip"):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"job {job_id} has no receipts ZIP (status {row['status']})"
        )
    path = FsPath(row["params"]["out_dir"]) / row["result"]["zip"]
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the ZIP of job {job_id} was removed from the server")
    return FileResponse(path, media_type="application/zip", filename=path.name)
