"""Streamlit pieces the pages share: segwork errors as st.error, the sidebar, notes, reports, downloads."""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import streamlit as st

from segwork import exports
from segwork.errors import SegworkError
from segwork.ingestion import IngestReport
from segwork.segments import DEFAULT_RULES
from segwork.workbench import data, dataset, drill, filters, history_tables, state, upload

FAVICON = Path(__file__).resolve().parent / "favicon.png"  # shipped: a material icon is fetched from the internet
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


@contextmanager
def errors(prefix: str = "") -> Iterator[None]:
    """Show a SegworkError as st.error (its message is written for people) and skip the rest of the block.

    Any other exception is a bug and surfaces as one.
    """
    try:
        yield
    except SegworkError as exc:
        st.error(f"{prefix}{exc}", icon=":material/error:")


def problems(notes: list[str]) -> None:
    """Warn about link parameters that were ignored."""
    for note in notes:
        st.warning(note, icon=":material/link_off:")


def sidebar() -> None:
    """The engine in use and the segment rules in force, on every page."""
    with st.sidebar:  # below the navigation's own separator line (a divider here drew a second one)
        with errors():
            st.caption(f"**Engine:** {data.engine_description()}")
        rules = state.rules()
        changed = " (changed for this session)" if rules != DEFAULT_RULES else ""
        st.caption(f"**Segment rules in force{changed}:**\n" + "\n".join(f"- {line}" for line in rules.describe()))
        if state.rules_problem():
            st.warning(state.rules_problem())
        with errors():
            st.caption(f"**Data:** {dataset.short(dataset.contents())}. The Overview says more, and loads or removes data.")


def data_note() -> None:
    """Say plainly which data the database holds (every state), with the actions that change it."""
    with errors():
        dataset.note()
        dataset.actions()


def plain(text: str) -> str:
    """`text` for st.markdown, shown as written: a lone '-' would be a heading underline, '1.' a list."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def fact(container, label: str, text: str) -> None:
    """A bold label over a line of plain text (st.metric's large figures suit numbers, not dates)."""
    container.markdown(f"**{plain(label)}**  \n{plain(text)}")


def download_csv(label: str, payload: bytes | Callable[[], bytes], file_name: str, key: str,
                 on_click: Callable | None = None, args: tuple = ()) -> None:
    """A CSV download button; a callable payload is built only when clicked. on_click(*args), if
    given, runs when it is clicked (then the page runs again), else the page does not rerun."""
    st.download_button(label, data=payload, file_name=file_name, mime="text/csv", key=key, on_click=on_click or "ignore",
                       args=args if on_click else None, icon=":material/download:")


def timeline_downloads(customer_id: str, where: dict, events: pd.DataFrame, total: int, offset: int, limit: int) -> None:
    """Downloads of a customer's events: the page shown, and all `total` events matching `where`
    when one download may hold them (`limit` rows); each label and file name says what it holds."""
    if len(events) < total:
        first, last = offset + 1, offset + len(events)
        download_csv(f"Download events {first:,}–{last:,} of {total:,} (CSV)", data.csv_bytes(events),
                     filters.timeline_file_name(customer_id, total, first, last, **where), key="lk_csv_page")
    matching = filters.timeline_words(**where)
    if total <= limit:
        whole = data.csv_bytes(events) if len(events) == total else data.timeline_export(customer_id, where)
        download_csv(f"Download all {total:,} events{matching} (CSV)", whole,
                     filters.timeline_file_name(customer_id, total, **where), key="lk_csv")
    else:
        st.caption(f"All {total:,} events{matching} are more than one download may hold ({limit:,} rows, "
                   "SEGWORK_QUERY_MAX_ROWS): choose fewer event types or a shorter period to download them whole, "
                   "or download them a page at a time.")


def ago(ts: pd.Timestamp | None, now: pd.Timestamp) -> str:
    """'2026-11-01 10:00 UTC (3 days ago)', or '-' when there is no time."""
    if ts is None:
        return "-"
    seconds = max((now - ts).total_seconds(), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{ts:%Y-%m-%d %H:%M} UTC ({n} {unit}{'s' if n > 1 else ''} ago)"
    return f"{ts:%Y-%m-%d %H:%M:%S} UTC (just now)"


def ingest_report(report: IngestReport) -> None:
    """An IngestReport shown plainly: counts, duplicates, top reasons, the quarantined rows."""
    st.subheader(f"Report: {report.source} → {report.table}")
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{report.rows_read:,}")
    cols[1].metric("Inserted", f"{report.inserted:,}")
    cols[2].metric("Already present (skipped)", f"{report.duplicates:,}")
    cols[3].metric("Quarantined", f"{report.quarantined:,}")
    st.caption(f"Ingest id {report.ingest_id}, {report.format.upper()}, {report.elapsed_s:.2f} s. "
               "Every row read is inserted, recognised as already present, or quarantined with its reasons.")
    good_again = report.duplicates - report.known_bad
    if good_again:
        st.info(f"{good_again:,} rows were already in {report.table} from an earlier load and were skipped: "
                "uploading a file twice does not duplicate data.", icon=":material/content_copy:")
    if report.known_bad:
        st.warning(f"{report.known_bad:,} bad rows of this file are in the quarantine from an earlier load and were "
                   "not added again: fix them in the file and upload it again to load them.", icon=":material/warning:")
    if report.ignored_columns:
        st.caption(f"Ignored columns that {report.table} does not have: {', '.join(report.ignored_columns)}")
    if not report.quarantined and not report.known_bad:
        st.success("No row was quarantined.", icon=":material/check_circle:")
    if not report.quarantined:
        return
    st.markdown("**Why rows were quarantined** (top reasons)")
    table(upload.reasons_table(report), key="up_reasons")
    with errors():
        rows = data.query("quarantine", table=report.table, ingest_id=report.ingest_id, limit=1000)
        shown = upload.quarantine_table(rows)
        more = " (the first 1,000)" if report.quarantined > len(shown) else ""
        st.markdown(f"**Quarantined rows**{more}: their original values, line numbers and reasons; "
                    f"kept in `{report.table}_quarantine`.")
        table(shown, key="up_quarantine")
        download_csv(f"Download all {report.quarantined:,} quarantined rows (CSV)",
                     data.quarantine_export(report.table, report.ingest_id),
                     f"{report.table}_quarantine_{report.ingest_id[:8]}.csv", key="up_quarantine_csv")


def customer_profile(profile: pd.DataFrame) -> None:
    """One customer's profile (a customer_segment_lookup result): segments first, then the fields."""
    if profile.empty:
        st.warning("This customer has no profile.", icon=":material/person_off:")
        return
    p = profile.iloc[0]
    st.subheader(f"{p['name'] or '(no name)'} · {p['customer_id']}")
    c = st.columns(4)
    c[0].metric("Value segment", p["value_segment"])
    c[1].metric("Loyalty segment", p["loyalty_segment"])
    c[2].metric("Days since signup", f"{int(p['days_since_signup']):,}")
    c[3].metric("Lifetime value", f"{p['lifetime_value']:,.2f}")
    fields = pd.DataFrame({"field": profile.columns, "value": [_shown(v) for v in p]})
    st.dataframe(fields, hide_index=True, key="lk_profile", height="content")


def profile_history(versions: pd.DataFrame, customer_id: str | None = None) -> None:
    """A customer's profile versions (history.profile_versions), newest first, deletions marked;
    with customer_id: of a customer who no longer exists (their latest version is a deletion)."""
    if customer_id is not None:
        st.warning(f"{customer_id} is no longer a customer: deleted {versions['timestamp'].iloc[0]:%Y-%m-%d %H:%M:%S} UTC. "
                   "Their profile history:", icon=":material/person_off:")
    n = len(versions)
    st.markdown(f"**Profile history**: {n:,} version{'s' * (n != 1)}, newest first; the profile at any time is the "
                "latest version by then (the value segment by the rules in force).")
    table(history_tables.versions_table(versions, state.rules()), key="lk_versions")


def _shown(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M:%S} UTC"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


_MONEY = exports.MONEY_COLUMNS
_COUNTS = ("customer_count", "event_count", "rows_read", "inserted", "duplicates", "quarantined", "customers",
           "days_since_signup", "rows", "row", "days_since_signup_a", "days_since_signup_b", "entered", "exited", "total",
           "recency_days", "frequency", "now", "new rules", "change")
_TIMES = ("signup_date", "timestamp", "first_event", "last_event", "started_at", "profile_updated_at", "version_time",
          "since", "until", "exported_at", "last_purchase")
_ONE_DECIMAL = ("avg_age", "avg_frequency", "avg_recency_days")


def table(frame: pd.DataFrame, key: str, columns: list[str] | None = None, *, links: bool | dict[str, str] = False) -> None:
    """st.dataframe with money, counts and UTC times formatted for reading; `columns` picks and orders.

    links=True: each customer id opens that customer in the Customer lookup; a dict makes columns
    of URLs links, each shown as its regular expression's first group.
    """
    config = {}
    if links is True and "customer_id" in frame.columns:
        frame = drill.with_lookup_links(frame)
        config["customer_id"] = st.column_config.LinkColumn(
            "customer_id", display_text=drill.LINK_TEXT, help="Open this customer in the Customer lookup")
    linked = links if isinstance(links, dict) else {}
    for column in frame.columns:
        if column in config:
            continue
        if column in linked:
            config[column] = st.column_config.LinkColumn(display_text=linked[column])
        elif column in _MONEY:
            config[column] = st.column_config.NumberColumn(format="accounting")
        elif column in _COUNTS:
            config[column] = st.column_config.NumberColumn(format="localized")
        elif column in _TIMES:
            config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss", timezone="UTC")
        elif column in _ONE_DECIMAL:
            config[column] = st.column_config.NumberColumn(format="%.1f")
        elif column in ("value_share", "retention"):
            config[column] = st.column_config.NumberColumn(format="percent")
    st.dataframe(frame, hide_index=True, key=key, column_config=config, column_order=columns)
