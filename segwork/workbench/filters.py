"""Form values turned into query arguments, and a caption of the filter in words."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd

from segwork.segments import DEFAULT_RULES, SEPARATOR, SegmentRules

AGE_RANGE = (0, 120)  # the slider's full range means "any age, unknown ages included"
EARLIEST, LATEST = date(1970, 1, 1), date(2105, 12, 31)  # the dates a query takes (segwork.params.timestamp)


def age_bounds(age: tuple[int, int]) -> tuple[int | None, int | None]:
    """(min_age, max_age) for the queries; the slider's full range filters nothing."""
    low, high = int(age[0]), int(age[1])
    return (None if low <= AGE_RANGE[0] else low), (None if high >= AGE_RANGE[1] else high)


def split_segment(label: str | None) -> tuple[str, str]:
    """'High Value · Loyal' -> ('High Value', 'Loyal')."""
    if not label or SEPARATOR not in label:
        return "", ""
    value, loyalty = label.split(SEPARATOR, 1)
    return value, loyalty


def default_window(latest_event: pd.Timestamp | None, days: int = 30) -> tuple[date, date]:
    """The last `days` days that have events (ending today when there are none)."""
    end = latest_event.date() if latest_event is not None else date.today()
    return end - timedelta(days=days - 1), end


def page_count(total_rows: int, page_size: int) -> int:
    """Pages needed for total_rows (at least 1)."""
    return max(1, -(-int(total_rows) // int(page_size)))


def caption(*, location: str | None = None, age: tuple[int, int] | None = None, start: date | None = None,
            end: date | None = None, event_types: list[str] | None = None, rules: SegmentRules | None = None) -> str:
    """The filter in force, in words (shown above results)."""
    parts = []
    if start is not None and end is not None:
        parts.append(f"{start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC, inclusive)")
    if event_types is not None:
        parts.append("event types " + ", ".join(event_types) if event_types else "all event types")
    parts.append(f"location {location}" if location else "all locations")
    if age is not None:
        low, high = age_bounds(age)
        if low is None and high is None:
            parts.append("any age")
        else:
            parts.append(f"age {low or AGE_RANGE[0]}–{high or AGE_RANGE[1]} (known ages only)")
    if rules is not None:
        parts.append("default segment rules" if rules == DEFAULT_RULES else "segment rules changed for this session")
    return "Showing: " + "; ".join(parts) + "."


def customer_labels(matches: pd.DataFrame) -> dict[str, str]:
    """customer_id -> 'id · name · email' for a chooser, in the order found (exact id first)."""
    return {row.customer_id: " · ".join(str(v) for v in (row.customer_id, row.name, row.email) if v)
            for row in matches.itertuples(index=False)}


def timeline_words(event_types: list[str] | None = None, start_date: date | None = None, end_date: date | None = None) -> str:
    """' of type purchase, return from 2026-01-01 to 2026-06-30' for a timeline's filters ('' for none)."""
    words = f" of type {', '.join(event_types)}" if event_types else ""
    words += f" from {start_date:%Y-%m-%d}" if start_date else ""
    return words + (f" to {end_date:%Y-%m-%d}" if end_date else "")


def timeline_title(total: int, offset: int, shown: int, **where) -> str:
    """What a page of a customer's events covers: 'Latest 5,000 of 12,002 events, newest first'."""
    if offset == 0 and shown >= total:
        span = f"All {total:,} events" if total != 1 else "The one event"
    elif offset == 0:
        span = f"Latest {shown:,} of {total:,} events"
    else:
        span = f"Events {offset + 1:,}–{offset + shown:,} of {total:,} (older ones)"
    return span + timeline_words(**where) + ", newest first"


def timeline_file_name(customer_id: str, total: int, first: int | None = None, last: int | None = None, **where) -> str:
    """A download's file name saying what it holds: 'c42_events_purchase_from_2026-01-01_1-5000_of_12002.csv'."""
    parts = [re.sub(r"[^A-Za-z0-9.-]+", "-", customer_id).strip("-.") or "customer", "events"]
    parts += ["-".join(where.get("event_types") or [])] if where.get("event_types") else []
    parts += [f"from_{where['start_date']:%Y-%m-%d}"] if where.get("start_date") else []
    parts += [f"to_{where['end_date']:%Y-%m-%d}"] if where.get("end_date") else []
    parts.append(f"{first}-{last}_of_{total}" if first is not None else f"all_{total}")
    return "_".join(parts) + ".csv"
