"""Segments through time, from the profile history (segwork.history): each segment's size at the
end of every day, week or month; who moved between two dates and why; who entered and who left
one segment, for feeding a marketing tool only the changes.

Dates: a bare date (YYYY-MM-DD) means the end of that day (UTC), so "2011-12-31" is the state
once that day is over; a time is taken as given. A customer's place at a time is what
customer_segments_summary says with that as_of (their latest profile version by then).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params
from segwork.errors import ParameterError
from segwork.segments import DEFAULT_RULES, LOYALTY_SEGMENTS, SEGMENTS, SEPARATOR, VALUE_SEGMENTS, SegmentRules

EVERY = ("day", "week", "month")
BY = ("segment", "value", "loyalty")
OUTSIDE = "Not a customer"  # the place of someone without a profile (yet, or any more) at a date
MAX_DAYS = 20 * 366  # the longest range segment_sizes covers
MAX_LIMIT = 1_000_000


def segment_sizes(client: Client, start_date=None, end_date=None, *, every: str = "month", location=None,
                  min_age=None, max_age=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """How many customers each (value, loyalty) segment had at the end of each day, week
    (Sunday) or month of [start_date, end_date], and at the range's last day; by default the
    last 365 days up to today. Location and age filters are judged on the profile in effect.

    Columns: day (the date whose end is counted), segment ('High Value · Loyal', ...),
    value_segment, loyalty_segment, customers. Every segment at every point (0 when empty),
    in the fixed segment order.
    """
    p = sizes_parameters(start_date, end_date, every=every, location=location, min_age=min_age,
                         max_age=max_age, rules=rules)
    found = db.query_df(client, "segment_sizes_over_time", p)
    if found.columns.empty:  # answered in the engine's own format (db.query_output: the HTTP API)
        return found
    days = sorted(found["day"].unique()) if len(found) else pd.to_datetime(_points(p["start_date"], p["end_date"], p["every"]))
    grid = pd.MultiIndex.from_product([days, VALUE_SEGMENTS, LOYALTY_SEGMENTS], names=["day", "value_segment", "loyalty_segment"])
    out = found.set_index(["day", "value_segment", "loyalty_segment"])["customers"].reindex(grid, fill_value=0).reset_index()
    out["day"] = pd.to_datetime(out["day"]).dt.date
    out.insert(1, "segment", out["value_segment"] + SEPARATOR + out["loyalty_segment"])
    out["customers"] = out["customers"].astype("int64")
    return out


def sizes_parameters(start_date, end_date, *, every, location, min_age, max_age, rules) -> dict:
    """Checked parameters of segment_sizes (also the pipe's)."""
    end = params.timestamp("end_date", end_date, end_of_day=True) or params.now()
    start = params.timestamp("start_date", start_date) or (end - timedelta(days=365))
    if start > end:
        raise ParameterError("start_date", f"{start:%Y-%m-%d} is after end_date {end:%Y-%m-%d}; swap them")
    if (end.date() - start.date()).days > MAX_DAYS:
        raise ParameterError("start_date", f"the range {start:%Y-%m-%d} .. {end:%Y-%m-%d} is longer than {MAX_DAYS:,} days; "
                                           "shorten it")
    lo = params.integer("min_age", min_age, minimum=0, maximum=150)
    hi = params.integer("max_age", max_age, minimum=0, maximum=150)
    return {"start_date": start, "end_date": end, "every": params.choice("every", every, EVERY, "month"),
            "location": params.text("location", location), "min_age": lo or None, "max_age": hi,
            **(rules or DEFAULT_RULES).sql_parameters()}


def saved_segment_sizes(client: Client, segment, start_date=None, end_date=None, *, every: str = "month",
                        rules: SegmentRules | None = None, progress=None) -> pd.DataFrame:
    """A saved (or given) custom segment's size at the end of each day, week or month: its
    definition evaluated at each point (profiles then, events up to then, windows ending then),
    one query a point; progress(done, total) after each. Columns: day, segment, customers."""
    from segwork import custom

    p = sizes_parameters(start_date, end_date, every=every, location=None, min_age=None, max_age=None, rules=rules)
    chosen = segment if isinstance(segment, custom.Segment) else custom.get(client, segment)
    days = _points(p["start_date"], p["end_date"], p["every"])
    counts = []
    for i, day in enumerate(days, 1):
        end = datetime.combine(day, datetime.max.time()).replace(microsecond=0, tzinfo=p["end_date"].tzinfo)
        counts.append(custom.count(client, chosen, as_of=end, rules=rules))
        if progress is not None:
            progress(i, len(days))
    return pd.DataFrame({"day": days, "segment": chosen.name, "customers": pd.Series(counts, dtype="int64")})


def _points(start: datetime, end: datetime, every: str) -> list:
    days = pd.date_range(start.date(), end.date(), freq="D")
    if every == "week":
        days = days[(days.dayofweek == 6) | (days == days[-1])]
    elif every == "month":
        days = days[days.is_month_end | (days == days[-1])]
    return list(days.date)


def transitions(client: Client, date_a, date_b=None, *, by: str = "segment", rules: SegmentRules | None = None) -> pd.DataFrame:
    """Who went from where at date_a to where at date_b (default now), and why.

    One row per (from_state, to_state, why): places are segments in the `by` segmenting
    ('segment', 'value' or 'loyalty') or OUTSIDE ('Not a customer'); why says what changed
    ('lifetime value rose past 1,000', 'signup aged past 365 days', 'new customer', 'deleted',
    'no change', ...; several joined by '; '). See transition_matrix for the table.
    Columns: from_state, to_state, why, customers.
    """
    p, rules = _moves_parameters(date_a, date_b, by, rules)
    flows = db.query_df(client, "segment_transitions", p)
    if flows.columns.empty:  # answered in the engine's own format (db.query_output: the HTTP API)
        return flows
    flows["why"] = [why(r, p["by"], rules) for r in flows.itertuples()]
    out = flows.groupby(["from_state", "to_state", "why"], as_index=False, sort=False)["customers"].sum()
    out["customers"] = out["customers"].astype("int64")
    order = {s: i for i, s in enumerate(places(p["by"]))}
    return out.sort_values(["from_state", "to_state", "customers"], key=lambda c: c.map(order) if c.name != "customers" else -c,
                           kind="stable").reset_index(drop=True)


def transition_matrix(flows: pd.DataFrame) -> pd.DataFrame:
    """The from x to table of customers (rows: place at date_a, columns: place at date_b), in
    the fixed order of places, for a frame from transitions()."""
    table = flows.pivot_table(index="from_state", columns="to_state", values="customers", aggfunc="sum", fill_value=0)
    known = [s for s in places_of(flows) if s in table.index or s in table.columns]
    return table.reindex(index=known, columns=known, fill_value=0).astype("int64")


def transition_members(client: Client, date_a, date_b, from_state: str, to_state: str, *, by: str = "segment",
                       limit: int = 100, offset: int = 0, rules: SegmentRules | None = None) -> pd.DataFrame:
    """The customers of one flow of transitions(), by customer_id, a page at a time, with why
    each moved. Columns: customer_id, name, email, location, from_state, to_state, why,
    lifetime_value_a/_b, days_since_signup_a/_b, total_rows (the whole flow)."""
    p, rules = _moves_parameters(date_a, date_b, by, rules)
    known = places(p["by"])
    p["from_state"] = place("from_state", from_state, known)
    p["to_state"] = place("to_state", to_state, known)
    p["limit"] = params.integer("limit", limit, default=100, minimum=1, maximum=MAX_LIMIT)
    p["offset"] = params.integer("offset", offset, default=0, minimum=0)
    return _explained(db.query_df(client, "transition_members", p), p["by"], rules)


def segment_changes(client: Client, segment: str, since, until=None, *, rules: SegmentRules | None = None) -> pd.DataFrame:
    """Who entered and who left `segment` between `since` and `until` (default now): a built-in
    segment ('High Value · Loyal'; also 'High Value / Loyal' or 'high value, loyal'), a value
    segment ('High Value') or a loyalty segment ('Loyal'). since="last": where the last
    recorded export of this segment ended (record_export).

    Columns: customer_id, change_kind ('entered' / 'exited'), from_state, to_state, why, name,
    email, location, lifetime_value_a/_b, days_since_signup_a/_b; entered first, by customer_id.
    """
    name, by = segment_name(segment)
    if isinstance(since, str) and since.strip().lower() == "last":
        since = last_export(client, name)
        if since is None:
            raise ParameterError("since", f"no export of '{name}' is recorded yet; give the first date to compare from "
                                          "(YYYY-MM-DD)")
    p, rules = _moves_parameters(since, until, by, rules, names=("since", "until"))
    p["segment"] = name
    return _explained(db.query_df(client, "segment_changes", p), by, rules)


def record_export(client: Client, segment: str, since, until, entered: int, exited: int, destination: str) -> None:
    """Record that `segment`'s enters/exits between since and until went to `destination` (a
    file, a URL, 'download'): segment_changes(..., since="last") starts from `until` next time."""
    name, _ = segment_name(segment)
    p = {"segment": name, "entered": int(entered), "exited": int(exited), "destination": params.text("destination", destination) or ""}
    for key, value in (("since", since), ("until", until)):
        p[key] = params.timestamp(key, value, end_of_day=True)
        if p[key] is None:
            raise ParameterError(key, "is required: the period whose enters and exits were exported")
    db.command(client, "segment_export_save", p)


def exports_made(client: Client, segment: str | None = None, *, limit: int = 100) -> pd.DataFrame:
    """The recorded exports (of one segment, or all), newest first."""
    name = segment_name(segment)[0] if segment else ""
    return db.query_df(client, "segment_exports_made", {"segment": name, "limit": params.integer("limit", limit, minimum=1,
                                                                                                  maximum=10_000)}, utc=True)


def last_export(client: Client, segment: str) -> datetime | None:
    """Where the last recorded export of `segment` ended, or None."""
    made = exports_made(client, segment, limit=1)
    return None if made.empty else made["until"].iloc[0].to_pydatetime()


def segment_name(text: str) -> tuple[str, str]:
    """(the segment's label, the segmenting it belongs to) for a name as people type it."""
    raw = params.text("segment", text, required=True)
    words = " ".join(raw.replace(SEPARATOR.strip(), "/").replace(",", "/").split()).lower()
    parts = [part.strip() for part in words.split("/") if part.strip()]
    for label in VALUE_SEGMENTS:
        for loyalty in LOYALTY_SEGMENTS:
            if parts == [label.lower(), loyalty.lower()]:
                return f"{label}{SEPARATOR}{loyalty}", "segment"
    for by, labels in (("value", VALUE_SEGMENTS), ("loyalty", LOYALTY_SEGMENTS)):
        for label in labels:
            if parts == [label.lower()]:
                return label, by
    raise ParameterError("segment", f"{raw!r} is not a segment; use one of {', '.join(SEGMENTS)}, "
                                    f"a value segment ({', '.join(VALUE_SEGMENTS)}) or a loyalty segment ({', '.join(LOYALTY_SEGMENTS)})")


def places(by: str) -> list[str]:
    """The places of a segmenting in their fixed order, OUTSIDE last."""
    return [*{"segment": SEGMENTS, "value": VALUE_SEGMENTS, "loyalty": LOYALTY_SEGMENTS}[by], OUTSIDE]


def places_of(flows: pd.DataFrame) -> list[str]:
    """The places of whichever segmenting a transitions() frame is in."""
    seen = set(flows["from_state"]) | set(flows["to_state"])
    for by in BY:
        if seen <= set(places(by)):
            return places(by)
    return sorted(seen)


def place(name: str, value: str, known: list[str]) -> str:
    """A place chosen by name: one of `known` (else ParameterError naming them)."""
    text = params.text(name, value, required=True)
    if text not in known:
        raise ParameterError(name, f"{text!r} is not one of {', '.join(known)}")
    return text


def why(row, by: str, rules: SegmentRules) -> str:
    """What changed for a customer (or a group of them) between the two dates, in words."""
    change, value_move, loyalty_move = row.change, row.value_move, row.loyalty_move
    if change == "new":
        return "new customer"
    if change == "back":
        return "re-created after a deletion"
    if change == "deleted":
        return "deleted"
    reasons = []
    if value_move and by in ("segment", "value"):
        direction, _, to = value_move.partition(":")
        if direction == "up":
            line = rules.high_value if to == VALUE_SEGMENTS[0] else rules.medium_value
            reasons.append(f"lifetime value rose past {line:,g}")
        else:
            line = rules.high_value if to == VALUE_SEGMENTS[1] else rules.medium_value
            reasons.append(f"lifetime value fell below {line:,g}")
    if loyalty_move and by in ("segment", "loyalty"):
        kind, _, to = loyalty_move.partition(":")
        if kind == "aged":
            days = rules.loyal_days if to == LOYALTY_SEGMENTS[0] else rules.regular_days
            reasons.append(f"signup aged past {days:,} days")
        else:
            reasons.append("signup date changed")
    return "; ".join(reasons) or "no change"


def explain(frame: pd.DataFrame, by: str, rules: SegmentRules | None = None) -> pd.DataFrame:
    """A frame of moves with the engine's change codes (change, value_move, loyalty_move, as the
    pipes answer) turned into the `why` column, as the library's functions return them."""
    return _explained(frame, by, rules or DEFAULT_RULES)


def _explained(frame: pd.DataFrame, by: str, rules: SegmentRules) -> pd.DataFrame:
    if frame.columns.empty:  # answered in the engine's own format (db.query_output: the HTTP API)
        return frame
    reasons = [why(r, by, rules) for r in frame.itertuples()]
    out = frame.drop(columns=["change", "value_move", "loyalty_move"])
    out.insert(out.columns.get_loc("to_state") + 1, "why", reasons)
    return out


def _moves_parameters(date_a, date_b, by, rules, names=("date_a", "date_b")) -> tuple[dict, SegmentRules]:
    a = params.timestamp(names[0], date_a, end_of_day=True)
    if a is None:
        raise ParameterError(names[0], "is required: the date to compare from (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC)")
    b = params.timestamp(names[1], date_b, end_of_day=True) or params.now()
    if a >= b:
        raise ParameterError(names[0], f"{a:%Y-%m-%d %H:%M:%S} is not before {names[1]} {b:%Y-%m-%d %H:%M:%S}")
    rules = rules or DEFAULT_RULES
    return {"date_a": a, "date_b": b, "by": params.choice("by", by, BY, "segment"), "outside": OUTSIDE,
            "separator": SEPARATOR, **rules.sql_parameters()}, rules
