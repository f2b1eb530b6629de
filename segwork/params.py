"""Turn user values (Python objects or query-string text) into checked query parameters.

Every checker names the parameter and the expected form in its ParameterError, so the
workbench, the CLI and the HTTP API all give the same clear message.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pandas as pd

from segwork.errors import ParameterError

MAX_TEXT = 256
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def text(name: str, value, *, required: bool = False, max_length: int = MAX_TEXT) -> str | None:
    """A short string; None/'' stay None unless required."""
    if value is None or (isinstance(value, str) and value == ""):
        if required:
            raise ParameterError(name, "is required; give a non-empty text")
        return None
    if not isinstance(value, str):
        value = str(value)
    if len(value) > max_length:
        raise ParameterError(name, f"is {len(value):,} characters long; at most {max_length} are accepted")
    return value


def integer(name: str, value, *, default=None, minimum: int | None = None, maximum: int | None = None) -> int | None:
    """A whole number within bounds; text like '42' is accepted."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ParameterError(name, f"{value!r} is not a whole number")
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
        if number is None:
            raise ValueError
    except (TypeError, ValueError):
        raise ParameterError(name, f"{_show(value)} is not a whole number (Int32)") from None
    if minimum is not None and number < minimum:
        raise ParameterError(name, f"{number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ParameterError(name, f"{number} is above the maximum {maximum}")
    return number


def timestamp(name: str, value, *, end_of_day: bool = False) -> datetime | None:
    """A UTC datetime (second precision) from a datetime, date or ISO 8601 text.

    Naive values are UTC; values with a zone are converted. A bare date means the start of
    that day, or its last second when end_of_day (so an end date is inclusive).
    """
    if value is None or value == "":
        return None
    date_only = isinstance(value, date) and not isinstance(value, datetime)
    if isinstance(value, str):
        value = value.strip()
        date_only = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise ParameterError(name, f"{_show(value)} is not a date/time; use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)") from None
    if ts is pd.NaT:
        raise ParameterError(name, "is not a date/time; use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if date_only and end_of_day:
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    if not (pd.Timestamp("1970-01-01", tz="UTC") <= ts <= pd.Timestamp("2105-12-31", tz="UTC")):
        raise ParameterError(name, f"{ts:%Y-%m-%d} is outside the supported range 1970-01-01 .. 2105-12-31")
    return ts.floor("s").to_pydatetime()


def now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def event_types(name: str, value) -> list[str]:
    """A list of event types from a list or comma-separated text; [] means all."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        item = str(item).strip().lower()
        if not item:
            continue
        if not EVENT_TYPE.match(item):
            raise ParameterError(name, f"{_show(item)} is not an event type (lower-case letters, digits, _; at most 32)")
        out.append(item)
    if len(out) > 100:
        raise ParameterError(name, "at most 100 event types at once")
    return sorted(set(out))


def choice(name: str, value, options: tuple[str, ...], default: str) -> str:
    """One of a fixed set of words."""
    if value is None or value == "":
        return default
    if value not in options:
        raise ParameterError(name, f"{_show(value)} is not one of: {', '.join(options)}")
    return value


def _show(value) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "...'"
