"""``GET /api/v1/health``: liveness and database readiness for load balancers and Compose health checks.

Public on purpose (a health probe carries no credentials) and says nothing about accounts or data: the
state of the database connection and the software version only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from meterhub import __version__

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: Literal["ok", "unavailable"] = Field(description="ok when the database answered")
    database: Literal["ok", "unavailable"]
    version: str = Field(description="meterhub version serving the API")


def _ping(request: Request) -> bool:
    pool = request.app.state.pool
    try:
        with pool.connection(timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not ready"
        log.warning("health check: the database does not answer (%s)", exc)
        return False
    return True


@router.get(
    "/health",
    response_model=Health,
    summary="Health: is the API up and does the database answer (public, no data)",
    responses={503: {"model": Health, "description": "the database does not answer"}},
)
async def health(request: Request, response: Response) -> Health:
    # behind the same semaphore as every request (deps.get_conn): never block a worker thread waiting
    async with request.app.state.conn_slots:
        ok = await asyncio.to_thread(_ping, request)
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    state: Literal["ok", "unavailable"] = "ok" if ok else "unavailable"
    return Health(status=state, database=state, version=__version__)
