"""A profile version newer than as_of stored while a query at as_of runs changes nothing in its
answer (segwork.queries.exactly_at): the queries read the latest profiles, then check for a newer
version and read again from the history if one is there. Each case stores that version at the
worst moment (right after the query's first engine call, or right after its check) and compares
the answer with the one before, which pandas computes independently for the summary."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

import segwork
from segwork import analysis, custom, db, queries, reset
from segwork.custom import Field, Segment, compare
from segwork.segments import SegmentRules
from tests import oracle
from tests.apikit import running_api
from tests.test_history import FIRST, T, events_frame, profile

AS_OF = T("2024-06-01")  # after every version in FIRST: the queries read the latest profiles
# 'up' was High Value (1500) from 2023-01; after as_of it is Low Value, signed up in 2023-05
NEWER = profile("up", "2024-07-01", 50, signup="2023-05-01")
MOMENTS = {"first call": lambda name: True, "after the check": lambda name: name == "newest_profile_version"}
RICH = Segment("rich", all=[Field("lifetime_value", ">=", 1000)])


@pytest.fixture
def shop(client):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    segwork.ingest(client, "customer_events", events_frame())
    custom.save(client, RICH)
    return client


class Interleave:
    """Stores NEWER once, right after the first engine call through db.query_text_df (every
    query's way in) that `when` accepts, from whichever thread makes it."""

    def __init__(self, client, monkeypatch, when=lambda name: True):
        self.client, self.when, self.done = client, when, threading.Event()
        self._lock = threading.Lock()
        original = db.query_text_df

        def query_text_df(c, name, *args, **kwargs):
            result = original(c, name, *args, **kwargs)
            if not self.done.is_set() and self.when(name):
                with self._lock:
                    if not self.done.is_set():
                        self.done.set()
                        segwork.ingest(self.client, "customers", pd.DataFrame([NEWER]))
            return result

        monkeypatch.setattr(db, "query_text_df", query_text_df)


def _frame(df: pd.DataFrame) -> list:
    return df.astype(str).values.tolist()


LIBRARY = {
    "summary": lambda c: _frame(segwork.customer_segments_summary(c, as_of=AS_OF)),
    "engagement": lambda c: _frame(segwork.customer_engagement_analysis(c, "2023-01-01", "2024-06-01", as_of=AS_OF)),
    "engagement, located": lambda c: _frame(segwork.customer_engagement_analysis(c, "2023-01-01", "2024-06-01",
                                                                                 location="Paris", as_of=AS_OF)),
    "engagement with inactive": lambda c: _frame(segwork.customer_engagement_analysis(c, "2023-01-01", "2024-06-01",
                                                                                      include_inactive=True, as_of=AS_OF)),
    "segment customers": lambda c: _frame(segwork.segment_customers(c, "High Value", as_of=AS_OF)),
    "rule change": lambda c: _frame(queries.rule_change_impact(c, SegmentRules(high_value=1600), as_of=AS_OF)),
    "lookup": lambda c: _frame(segwork.customer_segment_lookup(c, "up", as_of=AS_OF)),
    "custom count": lambda c: custom.count(c, "rich", as_of=AS_OF),
    "custom members": lambda c: _frame(custom.members(c, "rich", as_of=AS_OF)),
    "custom sizes": lambda c: _frame(custom.sizes(c, as_of=AS_OF)),
    "custom condition counts": lambda c: _frame(custom.condition_counts(c, "rich", as_of=AS_OF)),
    "custom overlap": lambda c: compare.overlap(c, "rich", as_of=AS_OF),
    "custom composition": lambda c: _frame(compare.composition(c, "rich", as_of=AS_OF)),
    "custom event mix": lambda c: _frame(compare.event_mix(c, "rich", days=900, as_of=AS_OF)),
    "cohorts": lambda c: _frame(analysis.cohort_retention(c, as_of=AS_OF)),
}


# The lookup of one customer makes no check when the version it read is no newer than as_of.
@pytest.mark.parametrize("case,moment", [(c, m) for c in LIBRARY for m in MOMENTS if (c, m) != ("lookup", "after the check")])
def test_a_version_stored_during_a_query_at_as_of_changes_nothing(shop, monkeypatch, case, moment):
    ask = LIBRARY[case]
    before = ask(shop)
    if case == "summary":  # and before is right: pandas on the same versions
        want = oracle.summary(pd.DataFrame(FIRST).assign(is_deleted=0), AS_OF, SegmentRules())
        assert [r[2] for r in before] == [str(n) for n in want.customer_count]
    race = Interleave(shop, monkeypatch, MOMENTS[moment])
    during = ask(shop)
    assert race.done.is_set()
    assert during == before
    assert ask(shop) == before  # and after: the history is read from now on
    assert segwork.customer_segment_lookup(shop, "up").iloc[0]["lifetime_value"] == 50  # the version is there


def test_the_version_changes_the_latest_answers(shop):
    """The cases above can fail: read without as_of (the latest profiles), the answers differ."""
    before = {case: ask(shop) for case, ask in LIBRARY.items()}
    segwork.ingest(shop, "customers", pd.DataFrame([NEWER]))
    now = {case: ask(shop) for case, ask in LIBRARY.items()}
    assert now == before  # still as of AS_OF
    latest = {
        "summary": _frame(segwork.customer_segments_summary(shop)),
        "custom count": custom.count(shop, "rich"),
        "custom composition": _frame(compare.composition(shop, "rich")),
        "lookup": _frame(segwork.customer_segment_lookup(shop, "up")),
        "segment customers": _frame(segwork.segment_customers(shop, "High Value")),
        "cohorts": _frame(analysis.cohort_retention(shop)),
    }
    assert all(latest[case] != before[case] for case in latest)


PIPE = "/v0/pipes/customer_segments_summary.json"


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("way", ["pipe", "q over the pipe"])
def test_the_api_answers_as_of_while_a_version_is_stored(shop, database, monkeypatch, way, moment):
    """The pipe answers with the engine's own bytes (db.query_output); q= over a pipe captures its
    SQL and runs it later (db.query_capture), so it checks again after running it."""
    with running_api(shop, database) as api:
        def ask() -> list:
            if way == "pipe":
                r = api.http.get(PIPE, params={"as_of": "2024-06-01 00:00:00"}, headers=api.bearer())
                assert r.status_code == 200, r.text
                return r.json()["data"]
            r = api.http.get(PIPE, params={"as_of": "2024-06-01 00:00:00", "q": "SELECT * FROM _ ORDER BY customer_count DESC, "
                                           "value_segment, loyalty_segment FORMAT JSON"}, headers=api.bearer())
            assert r.status_code == 200, r.text
            return r.json()["data"]

        before = ask()
        race = Interleave(shop, monkeypatch, MOMENTS[moment])
        during = ask()
        assert race.done.is_set()
        assert sorted(map(str, during)) == sorted(map(str, before))
        assert sorted(map(str, ask())) == sorted(map(str, before))


def test_once_a_newer_version_is_seen_the_history_is_read_alone(shop, monkeypatch):
    """What each read costs: the latest profiles and a check; once the check found a version newer
    than as_of, reads at such an as_of go to the history in one call (versions only grow)."""
    calls = []
    original = db.query_text_df
    monkeypatch.setattr(db, "query_text_df", lambda c, name, *a, **k: calls.append(name) or original(c, name, *a, **k))

    def summary_calls(as_of) -> list[str]:
        calls.clear()
        segwork.customer_segments_summary(shop, as_of=as_of)
        return list(calls)

    assert summary_calls(AS_OF) == ["customer_segments_summary", "newest_profile_version"]
    segwork.ingest(shop, "customers", pd.DataFrame([NEWER]))
    assert summary_calls(AS_OF) == ["customer_segments_summary", "newest_profile_version", "customer_segments_summary@as_of"]
    assert summary_calls(AS_OF) == ["customer_segments_summary@as_of"]
    assert summary_calls("2024-05-01") == ["customer_segments_summary@as_of"]
    assert summary_calls("2025-01-01") == ["customer_segments_summary", "newest_profile_version"]  # no newer one
    assert summary_calls(None) == ["customer_segments_summary"]
    reset.empty(shop)  # emptied, then older versions only: the latest profiles are read again
    segwork.ingest(shop, "customers", pd.DataFrame(FIRST))
    assert summary_calls(AS_OF) == ["customer_segments_summary", "newest_profile_version"]
