"""Background jobs (import, close, receipts batch) run in worker threads; state and progress in ``api_jobs``.

A job is a function ``work(url, params, progress) -> result (JSON-able)``. It runs in one of the runner's
threads with its own database connections (a close fans out further into worker processes through
:func:`meterhub.billing.close.runner.run_close`). ``progress(done, total, message)`` updates the row, so
any server process can answer ``GET /jobs/{id}``. Jobs that were queued or running when the server
stopped are marked failed on the next start ("server restarted"), never left running forever.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from meterhub.timeseries.database import connect

__all__ = ["JobRunner", "ProgressFn", "WorkFn", "without_paths"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None, str], None]
WorkFn = Callable[[str, dict[str, Any], ProgressFn], Any]


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*")


def without_paths(text: str, folder: Path | None = None) -> str:
    """``text`` with the server's folders cut off file names (``/srv/…/uploads/x/a.csv`` → ``a.csv``)."""
    if folder is not None:
        text = text.replace(f"{folder}/", "").replace(str(folder), "")
    return _ABSOLUTE_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[-1], text)


class JobRunner:
    def __init__(self, url: str, max_workers: int = 1) -> None:
        self.url = url
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="meterhub-job")
        self.futures: dict[str, Future[None]] = {}
        # Several server processes start together (meterhub serve --workers): only jobs created before
        # the server started (METERHUB_SERVER_STARTED_AT, set by serve) are orphans, not a sibling's.
        started = os.environ.get("METERHUB_SERVER_STARTED_AT") or None
        with connect(url, autocommit=True) as conn:
            conn.execute(
                "UPDATE api_jobs SET status = 'failed', finished_at = now(), "
                "error = 'server restarted while the job ran; start it again' "
                "WHERE status IN ('queued', 'running') AND created_at < COALESCE(%s::timestamptz, now())",
                (started,),
            )

    def submit(self, kind: str, params: dict[str, Any], work: WorkFn, created_by: int | None) -> str:
        job_id = str(uuid.uuid4())
        with connect(self.url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO api_jobs (job_id, kind, status, params, created_by) "
                "VALUES (%s, %s, 'queued', %s, %s)",
                (job_id, kind, json.dumps(params), created_by),
            )
        self.futures[job_id] = self._pool.submit(self._run, job_id, params, work)
        return job_id

    def _run(self, job_id: str, params: dict[str, Any], work: WorkFn) -> None:
        with connect(self.url, autocommit=True) as conn:
            conn.execute(
                "UPDATE api_jobs SET status = 'running', started_at = now() WHERE job_id = %s", (job_id,)
            )

            def progress(done: int, total: int | None, message: str) -> None:
                conn.execute(
                    "UPDATE api_jobs SET progress_done = %s, progress_total = %s, message = %s "
                    "WHERE job_id = %s",
                    (done, total, message[:500], job_id),
                )

            try:
                result = work(self.url, params, progress)
            except Exception as exc:  # the job reports its failure; the server goes on
                log.exception("job %s failed", job_id)
                conn.execute(
                    "UPDATE api_jobs SET status = 'failed', error = %s, finished_at = now() "
                    "WHERE job_id = %s",
                    (without_paths(f"{type(exc).__name__}: {exc}")[:4000], job_id),
                )
                return
            conn.execute(
                "UPDATE api_jobs SET status = 'succeeded', result = %s, finished_at = now() "
                "WHERE job_id = %s",
                (json.dumps(result, default=str), job_id),
            )

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job finished (tests and the CLI)."""
        fut = self.futures.get(job_id)
        if fut is not None:
            fut.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
