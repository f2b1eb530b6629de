"""Settings from SEGWORK_* environment variables, read in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / "data"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with `Settings.from_env()` and pass it down."""

    dsn: str | None = None  # None: the embedded on-disk database below data_dir
    database: str = "segwork"
    data_dir: Path = DEFAULT_DATA_DIR
    chunk_rows: int = 250_000  # rows read and validated at a time when streaming files
    insert_rows: int = 1_000_000  # validated rows gathered into one insert (fewer, bigger parts)
    max_json_depth: int = 64  # a JSON record nested deeper is quarantined (a JSON array document: refused)
    max_line_bytes: int = 1024 * 1024  # a longer NDJSON or CSV line is quarantined (read past, never held)
    max_json_document_bytes: int = 100 * 1024 * 1024  # a JSON array file is parsed whole: a bigger one is refused
    max_inflated_bytes: int = 20 * 1024**3  # a gzip file read by the library or CLI, once decompressed
    max_upload_inflated_bytes: int = 4 * 1024**3  # a gzip upload (workbench, POST /v0/datasources), once decompressed
    api_max_body_bytes: int = 10 * 1024 * 1024  # as the seed's Events API
    api_rate_limit_per_minute: int = 6000  # requests per token per minute
    api_max_inflated_bytes: int = 100 * 1024 * 1024  # a gzip Events API body, once decompressed
    api_max_upload_bytes: int = 1024 * 1024 * 1024  # a file posted to /v0/datasources
    api_threads: int = 8  # engine calls the API runs at once (one client per thread)
    api_coalesce_bytes: int = 256 * 1024  # Events API bodies up to this (decoded) are written together with concurrent ones; 0: never
    api_spool: bool | None = None  # Events API wait=false: 202 once the body is on disk, written after (segwork.api.spool);
                                   # None: on for the embedded database under data_dir (see spool_on)
    api_spool_max_bytes: int = 512 * 1024 * 1024  # spooled bytes not yet written beyond which POST /v0/events answers 503
    api_host: str = "127.0.0.1"  # `python -m segwork serve`
    api_port: int = 8000
    demo_customers: int = 20_000
    demo_events: int = 400_000
    workbench_address: str = "127.0.0.1"  # where `python -m segwork run` listens
    workbench_port: int = 8501
    workbench_cache_seconds: int = 60  # how long the workbench reuses a query result
    workbench_live_seconds: int = 5  # refresh interval of the Overview's live mode
    force_client_api: bool = False  # embedded engine through clickhouse-connect's API only, as a server is used
    query_timeout_seconds: float = 30.0  # every read is stopped past this (ClickHouse max_execution_time)
    query_max_rows: int = 1_000_000  # most rows a read may return (max_result_rows); queries.MAX_LIMIT's largest answer
    sql_max_query_bytes: int = 256 * 1024  # the Query API's SQL text (ClickHouse's own max_query_size)
    sql_max_rows_to_read: int = 1_000_000_000  # rows one Query API query may read (max_rows_to_read)
    sql_max_memory_bytes: int = 1024**3  # memory one Query API query may use (max_memory_usage)
    sql_concurrency: int = 2  # Query API queries running at once (more: 503); pipes and ingests keep the other threads
    segment_webhook_url: str | None = None  # where `segment diff --post` sends enters/exits (NDJSON) by default
    webhook_attempts: int = 4  # tries of one webhook POST (waits 0.5, 1, 2 s between) before giving up

    def for_uploads(self) -> "Settings":
        """These settings for reading an upload (workbench, POST /v0/datasources): a gzip file
        inflates to at most max_upload_inflated_bytes."""
        return replace(self, max_inflated_bytes=self.max_upload_inflated_bytes)

    @property
    def embedded_path(self) -> Path:
        """Directory of the embedded database when no DSN is set."""
        return self.data_dir / "chdb"

    @property
    def spool_on(self) -> bool:
        """Whether the Events API spools `wait=false` bodies: SEGWORK_API_SPOOL when set, else on
        for the default layout (the embedded database in data_dir/chdb, its spool in data_dir/spool,
        which only the process holding that database can use). With SEGWORK_DSN set, off unless
        asked for: processes sharing one server and one data_dir would share one spool."""
        return self.api_spool if self.api_spool is not None else self.dsn is None

    @property
    def spool_dir(self) -> Path:
        """The Events API's spool (SEGWORK_API_SPOOL)."""
        return self.data_dir / "spool"

    @property
    def resolved_dsn(self) -> str:
        """The DSN actually used: SEGWORK_DSN or the embedded default path."""
        return self.dsn or f"chdb://{self.embedded_path}"

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        """Read SEGWORK_* variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        s = cls()
        data_dir = Path(env["SEGWORK_DATA_DIR"]).resolve() if env.get("SEGWORK_DATA_DIR") else s.data_dir
        return replace(
            s,
            dsn=env.get("SEGWORK_DSN") or None,
            database=env.get("SEGWORK_DATABASE", s.database),
            data_dir=data_dir,
            chunk_rows=_int(env, "SEGWORK_CHUNK_ROWS", s.chunk_rows),
            insert_rows=_int(env, "SEGWORK_INSERT_ROWS", s.insert_rows),
            max_json_depth=_int(env, "SEGWORK_MAX_JSON_DEPTH", s.max_json_depth),
            max_line_bytes=_int(env, "SEGWORK_MAX_LINE_BYTES", s.max_line_bytes),
            max_json_document_bytes=_int(env, "SEGWORK_MAX_JSON_DOCUMENT_BYTES", s.max_json_document_bytes),
            max_inflated_bytes=_int(env, "SEGWORK_MAX_INFLATED_BYTES", s.max_inflated_bytes),
            max_upload_inflated_bytes=_int(env, "SEGWORK_MAX_UPLOAD_INFLATED_BYTES", s.max_upload_inflated_bytes),
            api_max_body_bytes=_int(env, "SEGWORK_API_MAX_BODY_BYTES", s.api_max_body_bytes),
            api_rate_limit_per_minute=_int(env, "SEGWORK_API_RATE_LIMIT", s.api_rate_limit_per_minute),
            api_max_inflated_bytes=_int(env, "SEGWORK_API_MAX_INFLATED_BYTES", s.api_max_inflated_bytes),
            api_max_upload_bytes=_int(env, "SEGWORK_API_MAX_UPLOAD_BYTES", s.api_max_upload_bytes),
            api_threads=_int(env, "SEGWORK_API_THREADS", s.api_threads),
            api_coalesce_bytes=_int(env, "SEGWORK_API_COALESCE_BYTES", s.api_coalesce_bytes),
            api_spool=_bool(env, "SEGWORK_API_SPOOL", s.api_spool),
            api_spool_max_bytes=_positive(env, "SEGWORK_API_SPOOL_MAX_BYTES", s.api_spool_max_bytes, int),
            api_host=env.get("SEGWORK_API_HOST") or s.api_host,
            api_port=_int(env, "SEGWORK_API_PORT", s.api_port),
            demo_customers=_int(env, "SEGWORK_DEMO_CUSTOMERS", s.demo_customers),
            demo_events=_int(env, "SEGWORK_DEMO_EVENTS", s.demo_events),
            workbench_address=env.get("SEGWORK_WORKBENCH_ADDRESS") or s.workbench_address,
            workbench_port=_int(env, "SEGWORK_WORKBENCH_PORT", s.workbench_port),
            workbench_cache_seconds=_int(env, "SEGWORK_WORKBENCH_CACHE_SECONDS", s.workbench_cache_seconds),
            workbench_live_seconds=_int(env, "SEGWORK_WORKBENCH_LIVE_SECONDS", s.workbench_live_seconds),
            force_client_api=_bool(env, "SEGWORK_FORCE_CLIENT_API", s.force_client_api),
            query_timeout_seconds=_positive(env, "SEGWORK_QUERY_TIMEOUT_SECONDS", s.query_timeout_seconds, float),
            query_max_rows=_positive(env, "SEGWORK_QUERY_MAX_ROWS", s.query_max_rows, int),
            sql_max_query_bytes=_positive(env, "SEGWORK_SQL_MAX_QUERY_BYTES", s.sql_max_query_bytes, int),
            sql_max_rows_to_read=_positive(env, "SEGWORK_SQL_MAX_ROWS_TO_READ", s.sql_max_rows_to_read, int),
            sql_max_memory_bytes=_positive(env, "SEGWORK_SQL_MAX_MEMORY_BYTES", s.sql_max_memory_bytes, int),
            sql_concurrency=_positive(env, "SEGWORK_SQL_CONCURRENCY", s.sql_concurrency, int),
            segment_webhook_url=env.get("SEGWORK_SEGMENT_WEBHOOK_URL") or None,
            webhook_attempts=_positive(env, "SEGWORK_WEBHOOK_ATTEMPTS", s.webhook_attempts, int),
        )


def _int(env, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        from segwork.errors import ConfigError

        raise ConfigError(f"{name}={raw!r} is not a whole number; unset it or give e.g. {name}={default}") from None
    return value


def _positive(env, name: str, default, kind):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        from segwork.errors import ConfigError

        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}={raw!r} is not {what} above 0; unset it or give e.g. {name}={default}")
    return value


def _bool(env, name: str, default: bool | None) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    from segwork.errors import ConfigError

    raise ConfigError(f"{name}={env.get(name)!r} is not a yes/no value; give {name}=1 or {name}=0, or unset it")
