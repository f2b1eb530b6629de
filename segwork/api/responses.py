"""What the API sends back besides pipe bodies: errors as {"error", "documentation"}, media types.

Pipe bodies are ClickHouse's own output formats (see segwork.api.pipes), as the seed's system
returns them.
"""
from __future__ import annotations

import uuid

from starlette.responses import JSONResponse

from segwork.errors import EngineBusyError, EngineError, InputTooLargeError, SegworkError

DOCS = "README.md#http-api"
FORMATS = ("json", "csv", "ndjson", "parquet")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "ndjson": "application/x-ndjson", "parquet": "application/octet-stream"}

# Engine refusals that are not the server failing: a query over segwork's time limit (504),
# the engine short of memory or of query slots (503, worth retrying later), an answer over
# the row cap (400: the client asks for fewer rows). Any other engine error is a 500.
ENGINE_STATUS = {"TIMEOUT_EXCEEDED": (504, None), "MEMORY_LIMIT_EXCEEDED": (503, "30"),
                 "TOO_MANY_SIMULTANEOUS_QUERIES": (503, "5"), "TOO_MANY_ROWS_OR_BYTES": (400, None)}


class ApiError(SegworkError):
    """A request the API refuses at the HTTP level (token, size, rate, unknown resource)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def error(exc: SegworkError) -> JSONResponse:
    """`{"error", "documentation"}` with the status the error stands for."""
    if isinstance(exc, ApiError):
        status, headers = exc.status, exc.headers
    elif isinstance(exc, InputTooLargeError):
        status, headers = 413, {}
    elif isinstance(exc, EngineBusyError):
        status, headers = 503, {"Retry-After": "5"}
    elif isinstance(exc, EngineError):
        status, retry = ENGINE_STATUS.get(exc.name, (500, None))
        headers = {"Retry-After": retry} if retry else {}
    else:
        status, headers = 400, {}  # ParameterError, InputFileError and other refusals of the input
    return JSONResponse({"error": str(exc), "documentation": DOCS}, status_code=status, headers=headers)


def internal_error() -> tuple[JSONResponse, str]:
    """The 500 for a bug (an exception outside SegworkError), and the reference that ties the
    answer to the traceback in the log."""
    ref = uuid.uuid4().hex[:12]
    message = (f"internal error: not the client's fault; the server logged it with reference {ref}. "
               "Retry later, and report the reference to the server's operator if it persists")
    return JSONResponse({"error": message, "documentation": DOCS}, status_code=500), ref
