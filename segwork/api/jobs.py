"""Appends as the seed system's import jobs, for its Forward CLI (`tb datasource append`).

  POST /v1/datasources/<name>/append?format=csv|ndjson|parquet   the file as the raw body (gzip too),
                                  ingested before the answer; answered with the job (its id is the
                                  ingest id), already `done`
  GET  /v0/jobs/<id>              the job of an ingest (any: Events API, Data Sources API, v1 appends):
                                  status and blocks[].process_return[] with `lines` (rows now in) and
                                  `quarantine`, as the CLIs sum them
  GET  /v0/jobs[?status=&kind=]   the latest 100 jobs of the data sources the token may append to

A job is read from the ingest log (segwork.ingestion.ingestlog), so it survives a restart.
States: queued (an Events API request answered from the spool, segwork.api.accept, not yet
written) -> waiting; finished -> done, failed -> error (with the error), started/running -> working while it
runs; one begun before this API process started was interrupted: error, saying what is in and
what to do. Needs DATASOURCES:APPEND on the job's data source (or ADMIN).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from segwork import db, params
from segwork.api import tokens
from segwork.api.responses import ApiError
from segwork.api.workspace import stamp
from segwork.ingestion import ingestlog
from segwork.schemas import TABLES

STATES = {"finished": "done", "failed": "error", "started": "working", "running": "working", "queued": "waiting"}
CONTENT_TYPES = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/vnd.apache.parquet": "parquet"}
FORMATS = ("csv", "ndjson", "parquet")
PROCESS_STARTED = datetime.now(timezone.utc)  # an ingest still 'running' from before this was interrupted
LISTED = 100


def routes(app, guard) -> list[Route]:
    """The routes, bound to the API object `app` (authentication, limits, engine threads)."""
    async def append(request: Request) -> Response:
        token = await app._authenticate(request)
        table, mode = request.path_params["name"], request.path_params["mode"]
        if table not in TABLES:
            raise ApiError(404, f"there is no data source '{table}'; the data sources are {', '.join(TABLES)}")
        app.check_append(request, token, table, mode)
        headers = app._limit(token)
        report = await app.ingest_upload(request, table, fmt=_format(request),
                                         source=f"POST /v1/datasources/{table}/append ({token.name})")
        job = await app._run(lambda client: _jobs(client, report.ingest_id, 1))
        return JSONResponse(_job(job[0], str(request.base_url)), headers=headers)

    async def job(request: Request) -> Response:
        token = await app._authenticate(request)
        job_id = params.text("job_id", request.path_params["job_id"]) or ""
        queued = app.accepting.drainer.queued.get(job_id) if app.accepting is not None else None
        found = [_queued(queued)] if queued else await app._run(lambda client: _jobs(client, job_id, 1))
        if not found:
            raise ApiError(404, f"there is no job '{job_id}'; a job's id is the import_id its append answered")
        if not token.can_append(found[0]["table_name"]):
            raise ApiError(403, f"token '{token.name}' may not read jobs of {found[0]['table_name']}; it needs the scope "
                                f"{tokens.APPEND}:{found[0]['table_name']}")
        return JSONResponse(_job(found[0], str(request.base_url)), headers=app._limit(token))

    async def listing(request: Request) -> Response:
        token = await app._authenticate(request)
        headers = app._limit(token)
        status, kind = request.query_params.get("status"), request.query_params.get("kind")
        found = await app._run(lambda client: _jobs(client, "", 10_000))
        jobs = [_job(r, str(request.base_url)) for r in found if token.can_append(r["table_name"])]
        jobs = [j for j in jobs if (not status or j["status"] == status) and (not kind or j["kind"] == kind)]
        return JSONResponse({"jobs": jobs[:LISTED]}, headers=headers)

    return [Route("/v1/datasources/{name}/{mode}", guard(append), methods=["POST"]),
            Route("/v0/jobs", guard(listing), methods=["GET"]),
            Route("/v0/jobs/{job_id}", guard(job), methods=["GET"])]


def blocks(report) -> dict:
    """The seed system's import blocks for one ingest report (the classic CLI sums their lines)."""
    return _blocks(report.accepted, report.quarantined, report.rows_read, report.elapsed_s)


def _format(request: Request) -> str | None:
    fmt = request.query_params.get("format")
    if fmt:
        if fmt not in FORMATS:
            raise ApiError(400, f"format={fmt} is not supported here; use csv, ndjson or parquet")
        return fmt
    return CONTENT_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip().lower())


def _jobs(client, ingest_id: str, limit: int) -> list[dict]:
    found = db.query_df(client, "ingest_jobs", {"ingest_id": ingest_id, "limit": limit}, utc=True)
    return found.to_dict("records") if len(found) else []


def _queued(meta: dict) -> dict:
    """An Events API request answered 202 from the spool and not yet written, as an ingest log row."""
    return {"ingest_id": meta["id"], "table_name": meta["table"], "source": meta["source"], "status": "queued",
            "error": "", "started_at": meta["at"], "updated_at": meta["at"], "rows_read": 0, "inserted": 0,
            "duplicates": 0, "quarantined": 0, "elapsed_s": 0.0}


def _job(row: dict, base_url: str) -> dict:
    """One ingest as the seed system's import job."""
    status = STATES.get(row["status"], "error")
    error = row["error"] or None
    if status == "working" and pd.Timestamp(row["started_at"]) < pd.Timestamp(PROCESS_STARTED):
        status, error = "error", ingestlog.describe(row)
    accepted = int(row["inserted"]) + int(row["duplicates"])
    job_id = row["ingest_id"]
    job = {
        "id": job_id, "job_id": job_id, "import_id": job_id, "kind": "import", "status": status, "mode": "append",
        "job_url": f"{base_url.rstrip('/')}/v0/jobs/{job_id}",
        "datasource": {"name": row["table_name"]}, "source": row["source"],
        "created_at": stamp(row["started_at"]), "started_at": stamp(row["started_at"]), "updated_at": stamp(row["updated_at"]),
        "is_cancellable": False, "rows_read": int(row["rows_read"]), "successful_rows": accepted,
        "inserted_rows": int(row["inserted"]), "duplicate_rows": int(row["duplicates"]),
        "quarantine_rows": int(row["quarantined"]), "invalid_lines": 0,
        **_blocks(accepted, int(row["quarantined"]), int(row["rows_read"]), float(row["elapsed_s"]),
                  "done" if status == "done" else status),
    }
    if status == "error":
        job["error"] = error or "the ingest failed"
        job["errors"] = [job["error"]]
    return job


def _blocks(lines: int, quarantine: int, read: int, elapsed: float, status: str = "done") -> dict:
    block = {"block_id": "0", "process_return": [{"lines": lines, "quarantine": quarantine, "invalid_lines": 0,
                                                   "empty_lines": 0, "rows_read": read, "parser": "segwork"}],
             "processing_time": round(elapsed, 3)}
    return {"blocks": [block], "block_log": [{"block_id": "0", "status": status}]}
