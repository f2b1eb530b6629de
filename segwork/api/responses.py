"""What the API sends back besides pipe bodies: errors as {"error", "documentation"}, media types.

Pipe bodies are ClickHouse's own output formats (see segwork.api.pipes), as the seed's system
returns them.
"""
from __future__ import annotations

from starlette.responses import JSONResponse

from segwork.errors import EngineBusyError, EngineError, InputTooLargeError, SegworkError

DOCS = "README.md#http-api"
FORMATS = ("json", "csv", "ndjson", "parquet")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "ndjson": "application/x-ndjson", "parquet": "application/octet-stream"}


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
        status, headers = 500, {}
    else:
        status, headers = 400, {}  # ParameterError, InputFileError and other refusals of the input
    return JSONResponse({"error": str(exc), "documentation": DOCS}, status_code=status, headers=headers)
