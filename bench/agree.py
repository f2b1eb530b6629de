"""Do all contenders give the same answers? Each answer is reduced to plain values
(floats compared with a relative tolerance: sums in another order differ in the last bits)."""
from __future__ import annotations

import math

import pandas as pd

KEYS = {
    "lookup": ["customer_id", "location", "age", "lifetime_value", "days_since_signup", "value_segment", "loyalty_segment"],
    "engagement": ["customer_id", "location", "event_count", "total_value", "first_event", "last_event",
                   "value_segment", "loyalty_segment"],
    "summary": ["value_segment", "loyalty_segment", "customer_count", "avg_lifetime_value", "total_lifetime_value", "avg_age"],
}


def rows(query: str, df: pd.DataFrame) -> list[tuple]:
    """The answer as a list of tuples of plain Python values, in the answer's order."""
    out = []
    for record in df[KEYS[query]].itertuples(index=False):
        out.append(tuple(_plain(v) for v in record))
    return out


def differences(query: str, answers: dict[str, pd.DataFrame], reference: str = "segwork") -> list[str]:
    """Human lines for every contender whose answer differs from the reference's; [] if all agree."""
    want = rows(query, answers[reference])
    problems = []
    if not want:
        problems.append(f"{query}: {reference} returned no rows (nothing to compare)")
    for name, df in answers.items():
        if name == reference:
            continue
        got = rows(query, df)
        if len(got) != len(want):
            problems.append(f"{query}: {name} returned {len(got)} rows, {reference} {len(want)}")
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            if not all(_same(a, b) for a, b in zip(g, w)):
                problems.append(f"{query}: row {i} differs: {name} {g} vs {reference} {w}")
                break
    return problems


def _plain(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):  # times compare as epoch seconds (the bare engine's Arrow gives those)
        return int((v.tz_localize("UTC") if v.tzinfo is None else v.tz_convert("UTC")).floor("s").timestamp())
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v) if not isinstance(v, bool) else v
    return v


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b
