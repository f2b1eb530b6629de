"""Form values turned into query arguments, and a caption of the filter in words."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from segwork.segments import DEFAULT_RULES, SEPARATOR, SegmentRules

AGE_RANGE = (0, 120)  # the slider's full range means "any age, unknown ages included"


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
