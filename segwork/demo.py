"""Generated demo data, loaded through the same validated ingestion as real files: a shop whose
events reach the moment it is loaded, and, while it is the only data, a live trickle of new events."""
from __future__ import annotations

import re
import threading
from typing import Callable

import numpy as np
import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, origins, overview, synth
from segwork.config import Settings
from segwork.ingestion import IngestReport, ingest, ingestlog

DEMO_SOURCE = "segwork demo data"
LIVE_SOURCE = f"{DEMO_SOURCE} (live)"
LIVE_PER_SECOND = 1.0  # new events a second, on average, in the live trickle
LIVE_SECONDS = 10  # the most seconds one trickle fills by default: events arrive while someone watches, no backfill
_UP_TO = re.compile(r"up to (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")
_trickling = threading.Lock()


def load(client: Client, *, customers: int, events: int, seed: int = 7, end=None, settings: Settings | None = None,
         progress: Callable[[int], None] | None = None, history: bool = False) -> list[IngestReport]:
    """Generate and ingest customers and events (synth.shop: lifetime values follow purchases);
    the events end at `end` (default: now, so 'the last 7 days' has data). With history, then
    the customers' earlier profile versions too (synth.profile_history: from signup, following
    their purchases), so segments have a past (the workbench's demo). progress(n) gets rows done
    since the last call (of customers and events)."""
    end = pd.Timestamp.now(tz="UTC") if end is None else pd.Timestamp(end)
    end = (end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")).floor("s")
    people, acts = synth.shop(customers, events, seed=seed, end=f"{end:%Y-%m-%d %H:%M:%S}")
    done = {"rows": 0}

    def step(rows: int, _fraction) -> None:
        if progress:
            progress(rows - done["rows"])
        done["rows"] = rows

    reports = []
    for table, frame in (("customers", people), ("customer_events", acts)):
        done["rows"] = 0
        name = f"{DEMO_SOURCE} ({table}, up to {end:%Y-%m-%d %H:%M:%S} UTC)"
        reports.append(ingest(client, table, frame, settings=settings, progress=step, source_name=name))
    if not history:
        return reports
    earlier = synth.profile_history(people, acts, end=f"{end:%Y-%m-%d %H:%M:%S}")
    reports.append(ingest(client, "customers", earlier, settings=settings,
                          source_name=f"{DEMO_SOURCE} (customers' profile history, up to {end:%Y-%m-%d %H:%M:%S} UTC)"))
    return reports


def ensure_demo(client: Client, settings: Settings) -> list[IngestReport]:
    """Load demo data when the database is empty (first start), or complete a demo load that
    was interrupted (the same seeded rows up to the same moment again: those already in are
    recognised); [] otherwise."""
    interrupted = ingestlog.incomplete(client)
    interrupted = interrupted[interrupted.source.str.startswith(DEMO_SOURCE)]
    if not overview.is_empty(client) and interrupted.empty:
        return []
    found = [_UP_TO.search(s) for s in interrupted.source]
    end = next((m.group(1) for m in found if m), None)
    return load(client, customers=settings.demo_customers, events=settings.demo_events, settings=settings,
                end=end and f"{end}Z", history=True)


def trickle(client: Client, *, now=None, seconds: int = LIVE_SECONDS, seed: int = 7,
            settings: Settings | None = None) -> list[IngestReport]:
    """New demo events for the seconds after the latest event up to `now` (at most the last
    `seconds`), and the next profile version of each customer who bought or
    returned something, when the database holds the demo data and nothing else; [] otherwise
    (never into one's own data, nor into an empty database).

    A second's events are always the same (synth.live_events), with ids of their own, so
    counts stay exact however often this runs; runs in one process take turns."""
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    now_s = int(now.timestamp())
    with _trickling:
        contents = origins.contents(client)
        if not contents.demo_only or not contents.counts["customers"]:
            return []
        latest = overview.freshness(client, as_of=now)["latest_event"]
        first = max(int(latest.timestamp()) + 1 if latest is not None else 0, now_s - max(int(seconds), 1) + 1)
        frame = synth.live_events(first, now_s + 1, contents.counts["customers"], seed=seed + synth.EVENT_SEED_OFFSET,
                                  per_second=LIVE_PER_SECOND)
        if frame.empty:
            return []
        reports = [ingest(client, "customer_events", frame, settings=settings, source_name=LIVE_SOURCE)]
        profiles = _after_purchases(client, frame)
        if len(profiles):
            reports.append(ingest(client, "customers", profiles, settings=settings, source_name=LIVE_SOURCE))
        return reports


def _after_purchases(client: Client, frame: pd.DataFrame) -> pd.DataFrame:
    """The next profile version of each customer with purchases or returns in `frame`: lifetime
    value plus what they spent (never below 0, as synth.shop), as of their latest such event."""
    spend = frame[frame["event_type"].isin(synth.SPEND)]
    if spend.empty:
        return spend
    by = spend.groupby("customer_id").agg(spent=("event_value", "sum"), at=("timestamp", "max"))
    current = db.query_df(client, "latest_profiles", {"ids": sorted(by.index)}, utc=True).set_index("customer_id")
    by = by.join(current, how="inner")
    if by.empty:
        return pd.DataFrame()
    later = by["timestamp"] + pd.Timedelta(seconds=1)  # a version older than the current one would not count
    out = pd.DataFrame({
        "customer_id": by.index,
        "name": by["name"].to_numpy(),
        "email": by["email"].replace("", None).to_numpy(),
        "age": pd.array(by["age"].where(by["age"] > 0).to_numpy(), dtype="Int32"),
        "gender": by["gender"].to_numpy(),
        "location": by["location"].to_numpy(),
        "signup_date": by["signup_date"].to_numpy(),
        "lifetime_value": np.round(np.maximum(by["lifetime_value"] + by["spent"], 0.0), 2).to_numpy(),
        "timestamp": np.maximum(by["at"], later).to_numpy(),
    })
    for column in ("signup_date", "timestamp"):
        out[column] = pd.to_datetime(out[column], utc=True)
    return out
