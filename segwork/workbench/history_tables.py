"""Tables for people from segwork.through_time's and segwork.history's frames: segment sizes
by day, the from x to matrix, the flows to choose from, a flow's members, enter/exit lists and a
customer's profile versions; with the defaults the Through time page starts from.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable
from urllib.parse import quote

import pandas as pd

from segwork import through_time
from segwork.segments import LOYALTY_SEGMENTS, SEGMENTS, VALUE_SEGMENTS, SegmentRules
from segwork.through_time import OUTSIDE
from segwork.workbench import data, engine, filters, state

ARROW = " → "
BY_LABELS = {"segment": "value x loyalty segment (9)", "value": "value segment (3)", "loyalty": "loyalty segment (3)"}
SEGMENT_CHOICES = (*SEGMENTS, *VALUE_SEGMENTS, *LOYALTY_SEGMENTS)  # whatever segment_changes takes, in the fixed order
LOOKUP = "lookup?q="  # relative to this page's URL: the Customer lookup page of the same workbench
LOOKUP_DISPLAY = r"lookup\?q=(.*)$"  # a link is shown as the customer id it opens
_VALUES = ["lifetime_value_a", "lifetime_value_b", "days_since_signup_a", "days_since_signup_b"]
MEMBER_COLUMNS = ["customer_id", "name", "email", "location", "why", *_VALUES]  # the flow is said above the table
ENTERED_COLUMNS = ["customer_id", "name", "email", "location", "from_state", "why", *_VALUES]
EXITED_COLUMNS = ["customer_id", "name", "email", "location", "to_state", "why", *_VALUES]
_TEXT = ("name", "email", "gender", "location")
_AT_A = ("lifetime_value_a", "days_since_signup_a")
_AT_B = ("lifetime_value_b", "days_since_signup_b")


def latest_day() -> date:
    """The day of the latest data (event or profile version); today on an empty database."""
    fresh = data.query("freshness")
    times = [t for t in (fresh["latest_event"], fresh["latest_profile"]) if t is not None and not pd.isna(t)]
    return max(times).date() if times else date.today()


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


def sizes_by_day(sizes: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """segment_sizes as one row per day and one column per segment of the `by` segmenting (summed
    over the other), in the fixed order, and their total."""
    column, order = {"segment": ("segment", SEGMENTS), "value": ("value_segment", VALUE_SEGMENTS),
                     "loyalty": ("loyalty_segment", LOYALTY_SEGMENTS)}[by]
    if sizes.empty:
        return pd.DataFrame(columns=["day", *order, "all segments"])
    wide = sizes.pivot_table(index="day", columns=column, values="customers", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=list(order), fill_value=0).astype("int64")
    wide["all segments"] = wide.sum(axis=1)
    return wide.reset_index().rename_axis(columns=None)


def sizes_note(sizes: pd.DataFrame) -> str | None:
    """Why the sizes are 0 at first (or throughout), in words; None when they are not."""
    totals = sizes.groupby("day")["customers"].sum() if len(sizes) else pd.Series(dtype="int64")
    if totals.empty or not totals.any():
        return ("No customer had a profile in this range (with these filters). A customer counts from the time of "
                "their first profile version, not from their signup date: choose a later range, or load profiles.")
    first = totals[totals > 0].index[0]
    if first == totals.index[0]:
        return None
    return (f"No customer had a profile before {first:%Y-%m-%d}: a customer counts from the time of their first "
            "profile version, not from their signup date (a load of profiles without older versions starts there).")


def flow_table(flows: pd.DataFrame) -> pd.DataFrame:
    """Every flow of transitions(), the moves first (largest first), then those who stayed."""
    stayed = flows["from_state"] == flows["to_state"]
    moves = flows[~stayed].sort_values("customers", ascending=False, kind="stable")
    return pd.concat([moves, flows[stayed]], ignore_index=True)[["from_state", "to_state", "customers", "why"]]


def flow_choices(flows: pd.DataFrame) -> dict[str, int]:
    """'from → to' -> customers for every (from, to) pair of transitions(): moves first (largest
    first), then who stayed in each place, in the fixed order."""
    pairs = flows.groupby(["from_state", "to_state"], sort=False)["customers"].sum()
    moves = pairs[[a != b for a, b in pairs.index]].sort_values(ascending=False, kind="stable")
    stays = pairs[[a == b for a, b in pairs.index]]
    return {f"{a}{ARROW}{b}": int(n) for (a, b), n in pd.concat([moves, stays]).items()}


def split_flow(label: str) -> tuple[str, str]:
    """'A → B' -> ('A', 'B')."""
    a, _, b = label.partition(ARROW)
    return a, b


def matrix_table(flows: pd.DataFrame, date_a: date, date_b: date) -> pd.DataFrame:
    """The from (rows: place at date_a) x to (columns: at date_b) table of customers, with totals."""
    matrix = through_time.transition_matrix(flows)
    matrix["total"] = matrix.sum(axis=1)
    matrix.loc["total"] = matrix.sum(axis=0)
    corner = f"at {date_a:%Y-%m-%d} \\ at {date_b:%Y-%m-%d}"
    return matrix.rename_axis(index=corner, columns=None).reset_index()


def moved_only(flows: pd.DataFrame) -> pd.DataFrame:
    """The flows of customers who changed place."""
    return flows[flows["from_state"] != flows["to_state"]]


def anyone_outside(flows: pd.DataFrame) -> bool:
    """Whether some flow starts or ends outside (no profile at date_a or date_b)."""
    return bool((flows["from_state"] == OUTSIDE).any() or (flows["to_state"] == OUTSIDE).any())


def everyone_new(flows: pd.DataFrame) -> bool:
    """Whether nobody was a customer at date_a (every flow starts outside)."""
    return len(flows) > 0 and set(flows["from_state"]) == {OUTSIDE}


def lookup_link(customer_id: str) -> str:
    """The Customer lookup page of this customer."""
    return LOOKUP + quote(str(customer_id), safe="")


def with_links(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose customer_id is a link to the Customer lookup (shown as the id)."""
    return frame.assign(customer_id=frame["customer_id"].map(lookup_link)) if "customer_id" in frame else frame


def members_shown(members: pd.DataFrame) -> pd.DataFrame:
    """A flow's (or an enter/exit list's) members as shown and downloaded: the date_a values of a
    customer who was not one then, and the date_b values of one who no longer is, left blank."""
    out = members.drop(columns=["total_rows"], errors="ignore").copy()
    for columns, outside in ((_AT_A, out["from_state"] == OUTSIDE), (_AT_B, out["to_state"] == OUTSIDE)):
        for column in columns:
            if column in out:
                out[column] = out[column].astype("float64").mask(outside)
    return out


def flow_page(date_a, date_b, by: str, flow: str, *, page: int, page_size: int) -> tuple[pd.DataFrame, int, int]:
    """One page of a flow's members: (rows, customers in the flow, page actually shown); a page
    past the end (a stale link) shows the last page."""
    a, b = split_flow(flow)
    kwargs = {"date_a": date_a, "date_b": date_b, "from_state": a, "to_state": b, "by": by, "limit": page_size}
    page = max(int(page), 1)
    rows = data.query("transition_members", **kwargs, offset=(page - 1) * page_size)
    if rows.empty and page > 1:
        first = data.query("transition_members", **kwargs, offset=0)
        total = int(first["total_rows"].iloc[0]) if len(first) else 0
        page = filters.page_count(total, page_size)
        rows = data.query("transition_members", **kwargs, offset=(page - 1) * page_size)
    total = int(rows["total_rows"].iloc[0]) if len(rows) else 0
    return members_shown(rows), total, page


def flow_export(date_a, date_b, by: str, flow: str) -> Callable[[], bytes]:
    """A deferred CSV of a whole flow (every member, not just the page shown), built when downloaded."""
    pool, rules, limit = engine.pool(), state.rules(), data.export_limit()
    a, b = split_flow(flow)

    def build() -> bytes:
        with pool.client() as client:
            rows = through_time.transition_members(client, date_a, date_b, a, b, by=by, limit=limit, rules=rules)
        return data.csv_bytes(members_shown(rows))

    return build


def file_name(*parts) -> str:
    """'flow_high_value_loyal_to_not_a_customer_2026-01-31_2026-02-28.csv' from the parts."""
    words = [f"{p:%Y-%m-%d}" if isinstance(p, (date, datetime)) else str(p) for p in parts if p not in (None, "")]
    text = "_".join(words).lower().replace(" · ", "_").replace(ARROW.strip(), "to")
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text).replace("__", "_") + ".csv"


def last_export(segment: str) -> pd.Series | None:
    """The last recorded export of `segment`'s changes (read fresh: one may have just been made)."""
    made = data.query("exports_made", segment=segment, limit=1, fresh=True)
    return None if made.empty else made.iloc[0]


def record_download(segment: str, since: datetime, until: datetime, entered: int, exited: int) -> None:
    """Record that the changes of `segment` from since to until were downloaded (the next 'since
    the last export' starts at until)."""
    with engine.pool().client() as client:
        through_time.record_export(client, segment, since, until, entered, exited, destination="workbench download")


def now_to_the_minute() -> datetime:
    """'Now' for an enter/exit list: to the minute, so the list shown, its download and the
    export recorded all end at the same moment, and a rerun within the minute is cached."""
    return pd.Timestamp.now(tz="UTC").floor("min").to_pydatetime()


def end_of(day: date) -> datetime:
    """The last second of a day (UTC), as the queries read a bare date."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=pd.Timestamp(0, tz="UTC").tzinfo)


def versions_table(versions: pd.DataFrame, rules: SegmentRules) -> pd.DataFrame:
    """A customer's profile versions (history.profile_versions, newest first) for reading: what
    each changed from the one before, its value segment by `rules`, deletions marked."""
    if versions.empty:
        return versions
    old = versions.iloc[::-1].reset_index(drop=True)
    fields = ["name", "email", "age", "gender", "location", "signup_date", "lifetime_value"]
    changes = []
    for i, row in old.iterrows():
        if row["is_deleted"]:
            changes.append("deleted")
        elif i == 0:
            changes.append("first version")
        elif old.loc[i - 1, "is_deleted"]:
            changes.append("re-created after a deletion")
        else:
            before = old.loc[i - 1]
            moved = [f"{f} {_word(before[f])} → {_word(row[f])}" for f in fields if not _same(before[f], row[f])]
            changes.append("; ".join(moved) or "no change")
    old["change"] = changes
    old["value_segment"] = [("" if d else rules.value_segment(v)) for v, d in zip(old["lifetime_value"], old["is_deleted"])]
    out = old.iloc[::-1].reset_index(drop=True)
    deleted = out["is_deleted"].astype(bool)
    for column in fields:  # a deletion's fields are placeholders, not values
        out[column] = out[column].mask(deleted, "") if column in _TEXT else out[column].mask(deleted)
    return out.rename(columns={"timestamp": "version_time"})[
        ["version_time", "change", "value_segment", "lifetime_value", "signup_date", "location", "name", "email", "age",
         "gender"]]


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return a == b


def _word(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(none)"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"'{value}'" if isinstance(value, str) else str(value)
