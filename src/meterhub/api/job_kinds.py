"""What each background job does: import files, close a period, print a receipts batch.

Each is a ``work(url, params, progress) -> result`` for :class:`meterhub.api.jobs_runner.JobRunner`; the
work itself is billing's (imports.import_file, close_runner.run_close, receipts.generate_batch). Results
are JSON-able dicts; failures raise with the reason (the job is marked failed with that text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meterhub.api.jobs_runner import ProgressFn, without_paths

__all__ = ["JobFailed", "entity_of", "run_close_job", "run_import_job", "run_receipts_job"]


class JobFailed(RuntimeError):
    pass


def entity_of(filename: str) -> str | None:
    """The import entity a file name names (``accounts.csv``, ``premises_2026.xlsx``), as the CLI does."""
    from meterhub.billing.imports import ENTITY_ORDER

    stem = Path(filename).stem.lower()
    return next((e for e in ENTITY_ORDER if stem.startswith(e)), None)


def _empty_file_problems(path: Path, name: str) -> list[str]:
    """A CSV file with a header and no rows (or nothing at all) is a mistake worth naming."""
    if path.suffix.lower() != ".csv":
        return []
    lines = [ln for ln in path.read_bytes().decode("utf-8-sig", "replace").splitlines() if ln.strip()]
    if not lines:
        return [f"{name}: the file is empty; put the header and one line per record (файл пуст)"]
    if len(lines) == 1:
        return [
            f"{name}: the file has only the header, no rows; add one line per record under it "
            "(в файле только заголовок, нет строк)"
        ]
    return []


def run_import_job(url: str, params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """params: {"folder": str, "files": [name, ...]} (already validated and saved). Files are imported in
    dependency order, each all-or-nothing; a file with problems fails the job after the others ran."""
    from meterhub.billing.imports import ENTITY_ORDER, ImportFileError, import_file
    from meterhub.timeseries.database import connect

    folder = Path(params["folder"])
    files = sorted(params["files"], key=lambda f: (ENTITY_ORDER.index(entity_of(f) or ENTITY_ORDER[-1]), f))
    results, problems = [], []
    with connect(url) as conn:
        for done, name in enumerate(files):
            progress(done, len(files), f"importing {name}")
            file_problems = _empty_file_problems(folder / name, name)
            if not file_problems:
                try:
                    r = import_file(conn, entity_of(name) or "", folder / name)
                except ImportFileError as exc:
                    conn.rollback()
                    # as the uploader named it: the server's upload folder is nobody's business
                    file_problems = [
                        f"{name}: row {p.row}, column {p.column}: {without_paths(p.message, folder)}"
                        for p in exc.problems
                    ]
                except Exception as exc:  # a file the importer could not read at all
                    conn.rollback()
                    file_problems = [f"{name}: cannot be read ({without_paths(str(exc), folder)})"]
            if file_problems:
                problems.extend(file_problems)
                results.append({"file": name, "problems": file_problems})
                continue
            conn.commit()
            results.append(
                {
                    "file": name,
                    "entity": r.entity,
                    "rows": r.rows,
                    "inserted": r.inserted,
                    "updated": r.updated,
                }
            )
        progress(len(files), len(files), "done")
    if problems:
        raise JobFailed(
            f"{len(problems)} problem(s); files with problems imported nothing:\n" + "\n".join(problems)
        )
    return {"files": results}


def run_close_job(url: str, params: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """params: {"period", "building_ids" (empty: all), "final", "workers"}."""
    from meterhub.billing.close.period import CloseOptions
    from meterhub.billing.close.repository import building_ids
    from meterhub.billing.close.runner import BuildingFailure, run_close
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.timeseries.database import connect

    period = BillingPeriod.parse(params["period"])
    targets = list(params.get("building_ids") or [])
    if not targets:
        with connect(url) as conn:
            targets = building_ids(conn)
    if not targets:
        raise JobFailed("no buildings to close; import buildings first")
    done = 0
    progress(0, len(targets), f"closing {period}")

    def step(outcome) -> None:
        nonlocal done
        done += 1
        what = "failed" if isinstance(outcome, BuildingFailure) else "done"
        progress(done, len(targets), f"{outcome.building}: {what}")

    run = run_close(
        url,
        period,
        targets,
        CloseOptions(final=bool(params.get("final"))),
        workers=int(params.get("workers") or 1),
        progress=step,
    )
    result = {
        "period": run.period,
        "accounts": run.accounts,
        "buildings": [
            {
                "building": r.building,
                "status": r.status,
                "accounts": r.accounts,
                "lines": r.lines,
                "total": str(r.total),
                "recalculations": r.recalculations,
            }
            for r in run.results
        ],
        "failures": [{"building": f.building, "reason": f.reason} for f in run.failures],
        "seconds": round(run.seconds, 2),
    }
    if run.failures and not run.results:
        raise JobFailed("; ".join(f"{f.building}: {f.reason}" for f in run.failures))
    return result


def run_receipts_job(
    url: str, params: dict[str, Any], progress: ProgressFn, *, link_secret: str
) -> dict[str, Any]:
    """params: {"period", "building_ids", "out_dir"}; files stay in out_dir. ``link_secret`` is passed
    apart from params so it is never stored with the job."""
    from meterhub.billing.receipts import generate_batch

    def step(p) -> None:
        progress(p.buildings_done, p.buildings_total, f"{p.building}: {p.error or f'{p.receipts} receipts'}")

    r = generate_batch(
        url,
        params["period"],
        params["out_dir"],
        building_ids=params.get("building_ids") or None,
        link_secret=link_secret,
        progress=step,
    )
    result = {
        "batch_id": r.batch_id,
        "period": r.period,
        "receipts": r.receipts,
        "to_pay_total": f"{r.to_pay_total:.2f}",
        "zip": r.zip_path.name if r.zip_path else None,
        "register": r.register_path.name if r.register_path else None,
        "failures": r.failures,
    }
    if r.failures and not r.receipts:
        raise JobFailed("; ".join(f"{b}: {why}" for b, why in r.failures.items()))
    return result
