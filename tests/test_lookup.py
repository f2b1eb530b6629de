"""Customer lookup's queries against pandas: finding customers by id, email or name (any
script's case), and one customer's timeline a page at a time, filtered by event type and dates."""
from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork import synth

pytestmark = pytest.mark.engine_paths  # the embedded fast path and the client API (conftest)

NAMES = {  # customer_id: (name, email)
    "c1": ("Ivan Müller", "ivan.mueller@example.de"),
    "c2": ("ÉLODIE Dubois", "Élodie@Exemple.fr"),
    "c3": ("Şule Yılmaz", "sule@example.com.tr"),
    "c4": ("Ærø Hansen", "aero@example.dk"),
    "c5": ("Дмитрий Иванов", "dmitriy@example.ru"),
    "c6": ("Σοφία Παπαδοπούλου", "sofia@example.gr"),
    "c7": ("Ivan Mustermann", "ivan.m@example.de"),
    "c8": ("İlker Şahin", "ilker@example.com.tr"),
    "c9": ("Straße Ann", "ann@strasse.de"),
    "ÜX1": ("Üma Ümit", "uma@example.com"),
}
SEARCHES = ["IVAN MÜ", "ivan mü", "Ivan M", "élodie", "ÉLODIE@EXEMPLE", "şULE", "ŞULE YIL", "ærø", "ÆRØ H", "ДМИ",
            "дмитрий и", "ΣΟΦΊΑ", "σοφία π", "İLKER", "i̇lker", "STRASSE", "STRAẞE", "ÜX", "üx", "üma", "ÜMA Ü", "c", "zz"]


def found(text: str) -> list[str]:
    """The oracle: id starts with the text as typed; email or name starts with it in any case (str.lower)."""
    needle = text.lower()
    hits = [cid for cid, (name, email) in NAMES.items()
            if cid.startswith(text) or email.lower().startswith(needle) or name.lower().startswith(needle)]
    return sorted(hits, key=lambda cid: (cid != text, cid))


@pytest.fixture
def people(client):
    profiles = pd.DataFrame({
        "customer_id": list(NAMES), "name": [n for n, _ in NAMES.values()], "email": [e for _, e in NAMES.values()],
        "signup_date": pd.Timestamp("2024-01-01", tz="UTC"), "lifetime_value": 10.0,
        "timestamp": pd.Timestamp("2024-01-01", tz="UTC")})
    assert segwork.ingest(client, "customers", profiles).inserted == len(NAMES)
    return client


@pytest.mark.parametrize("text", SEARCHES)
def test_find_customers_ignores_case_in_every_script(people, text):
    result = segwork.find_customers(people, text, limit=50)
    assert (list(result["customer_id"]) if len(result) else []) == found(text)


def test_find_customers_the_reported_case(people):
    assert list(segwork.find_customers(people, "IVAN MÜ")["name"]) == ["Ivan Müller"]


# --- one customer's timeline: filters and pages -------------------------------------------

@pytest.fixture
def busy(client):
    """3,000 generated events of 4 customers (about 750 each), with the frame they came from."""
    events = synth.events(3000, 4, seed=11)
    assert segwork.ingest(client, "customer_events", events).inserted == 3000
    return client, events.assign(timestamp=pd.to_datetime(events["timestamp"], utc=True))


def timeline_oracle(events, customer_id, event_types=(), start=None, end=None) -> pd.DataFrame:
    """customer_timeline without a limit, in pandas: newest first, ties by event_id."""
    e = events[events["customer_id"] == customer_id]
    if event_types:
        e = e[e["event_type"].isin(event_types)]
    if start is not None:
        e = e[e["timestamp"] >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        e = e[e["timestamp"] < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)]  # an end date is inclusive
    return e.sort_values(["timestamp", "event_id"], ascending=[False, True])


@pytest.mark.parametrize("event_types,start,end", [
    ((), None, None), (("purchase",), None, None), (("login", "search"), "2025-06-01", None),
    ((), None, "2025-12-31"), (("page_view",), "2025-03-01", "2026-03-31"), (("teleport",), None, None)])
def test_timeline_pages_and_counts_match_pandas(busy, event_types, start, end):
    client, events = busy
    customer = events["customer_id"].iloc[0]
    expected = timeline_oracle(events, customer, event_types, start, end)
    where = {"event_types": list(event_types), "start_date": start, "end_date": end}
    assert segwork.customer_event_count(client, customer, **where) == len(expected)
    for offset in (0, 100, len(expected) - 7):
        page = segwork.customer_timeline(client, customer, **where, limit=100, offset=max(offset, 0))
        want = expected["event_id"].iloc[max(offset, 0):max(offset, 0) + 100]
        assert (list(page["event_id"]) if len(page) else []) == list(want)
    whole = segwork.customer_timeline(client, customer, **where, limit=10_000)
    if len(expected):
        assert set(whole["customer_id"]) == {customer} and list(whole["event_id"]) == list(expected["event_id"])


def test_timeline_filters_are_checked(busy):
    client, _ = busy
    with pytest.raises(segwork.ParameterError, match="start_date.*after end_date"):
        segwork.customer_timeline(client, "c0000001", start_date="2026-02-01", end_date="2026-01-01")
    with pytest.raises(segwork.ParameterError, match="event_type"):
        segwork.customer_event_count(client, "c0000001", event_types=["DROP TABLE"])
    with pytest.raises(segwork.ParameterError, match="offset"):
        segwork.customer_timeline(client, "c0000001", offset=-1)
