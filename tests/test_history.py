"""Profile history and a true as_of: every query at an as_of in the past answers as it would
have then; deletions and late versions; sizes over time, transitions and enter/exit lists,
each checked against an independent pandas computation (tests/oracle.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import history, synth, through_time
from segwork.errors import ParameterError
from segwork.segments import SegmentRules
from tests import oracle

RULES = SegmentRules()


def T(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts


def profile(cid, ts, ltv, signup="2023-01-01", location="Paris", age=30):
    return {"customer_id": cid, "name": cid.title(), "email": f"{cid}@x.io", "age": age, "gender": "f", "location": location,
            "signup_date": T(signup), "lifetime_value": float(ltv), "timestamp": T(ts)}


# A customer upgraded, one downgraded, one deleted and re-created, one whose middle version
# arrives late, one who appears only later.
FIRST = [
    profile("up", "2023-01-01", 100), profile("up", "2023-06-01", 700), profile("up", "2024-01-01", 1500),
    profile("down", "2023-02-01", 2000, location="Rome"), profile("down", "2023-09-01", 300, location="Rome"),
    profile("gone", "2023-01-10", 800),
    profile("late", "2023-03-01", 600), profile("late", "2023-12-01", 1200),
    profile("future", "2024-03-01", 5000, signup="2024-03-01"),
]
DELETED_AT = T("2023-07-01")
AGAIN = [profile("gone", "2024-02-01", 50, signup="2024-02-01", location="Oslo")]
LATE = [profile("late", "2023-08-01", 100)]
POINTS = ["2023-01-05", "2023-04-01", "2023-07-15", "2023-08-15", "2023-10-01", "2024-01-15", "2024-03-15"]


def events_frame() -> pd.DataFrame:
    rows = []
    for i, (cid, ts, value) in enumerate([
        ("up", "2023-01-02 10:00", 10), ("up", "2023-05-01 10:00", 20), ("up", "2024-02-01 10:00", 30),
        ("down", "2023-03-01 09:00", 5), ("down", "2023-09-02 09:00", 6), ("gone", "2023-02-01 08:00", 7),
        ("gone", "2024-02-02 08:00", 8), ("late", "2023-08-02 12:00", 9), ("future", "2024-03-02 12:00", 11),
        ("nobody", "2023-04-01 12:00", 12),
    ]):
        rows.append({"event_id": f"e{i}", "customer_id": cid, "event_type": "purchase", "event_value": float(value),
                     "product_id": "p", "category": "c", "timestamp": T(ts)})
    return pd.DataFrame(rows)


def as_stored(rows: list[dict], deleted: dict[str, pd.Timestamp] | None = None) -> pd.DataFrame:
    """The versions as the oracle sees them: deletions as versions with is_deleted = 1."""
    frame = pd.DataFrame(rows).assign(is_deleted=0)
    gone = [{**profile(cid, at, 0), "is_deleted": 1} for cid, at in (deleted or {}).items()]
    return pd.concat([frame, pd.DataFrame(gone)], ignore_index=True) if gone else frame


def check_at(client, versions: pd.DataFrame, events: pd.DataFrame, as_of) -> None:
    """The three queries at as_of (None = now) equal pandas on the versions and events."""
    when = T("2030-01-01") if as_of is None else T(as_of) + pd.Timedelta(hours=12)
    got = segwork.customer_segments_summary(client, as_of=None if as_of is None else when)
    want = oracle.summary(versions, when, RULES)
    assert list(zip(got.value_segment, got.loyalty_segment, got.customer_count)) == list(
        zip(want.value_segment, want.loyalty_segment, want.customer_count)), as_of
    present = oracle.segmented(versions, when, RULES).set_index("customer_id")
    for cid in sorted(set(versions["customer_id"])):
        row = segwork.customer_segment_lookup(client, cid, as_of=None if as_of is None else when)
        if cid not in present.index:
            assert row.empty, (cid, as_of)
            continue
        got_row, want_row = row.iloc[0], present.loc[cid]
        assert (got_row["lifetime_value"], got_row["value_segment"], got_row["location"]) == (
            want_row["lifetime_value"], want_row["value_segment"], want_row["location"]), (cid, as_of)
        assert got_row["profile_updated_at"] == want_row["timestamp"]
    if as_of is not None:
        start = T("2023-01-01")
        got = segwork.customer_engagement_analysis(client, start, "2030-01-01", limit=100, as_of=when)
        want = oracle.engagement(events, versions, start, T("2030-01-01"), limit=100, as_of=when)
        assert list(got.customer_id) == list(want.customer_id)
        assert list(got.total_value) == list(want.total_value)


def test_hand_written_history_at_every_point(client):
    events = events_frame()
    assert segwork.ingest(client, "customers", pd.DataFrame(FIRST)).inserted == len(FIRST)
    segwork.ingest(client, "customer_events", events)
    assert history.delete_customers(client, ["gone", "unknown"], at=DELETED_AT) == 1  # unknown: nothing to delete
    assert history.delete_customers(client, "gone", at=DELETED_AT) == 0  # a deletion is a version: once
    before_late = as_stored(FIRST, {"gone": DELETED_AT})
    for point in POINTS:
        check_at(client, before_late, events, point)
    # 'gone' comes back; 'late' gets the version between its two (arriving last)
    segwork.ingest(client, "customers", pd.DataFrame(AGAIN))
    segwork.ingest(client, "customers", pd.DataFrame(LATE))
    everything = as_stored(FIRST + AGAIN + LATE, {"gone": DELETED_AT})
    for point in [*POINTS, None]:
        check_at(client, everything, events, point)
    # the cases spelled out
    assert segwork.customer_segment_lookup(client, "gone", as_of="2023-07-15").empty
    assert segwork.customer_segment_lookup(client, "gone", as_of="2023-06-30").iloc[0]["lifetime_value"] == 800
    assert segwork.customer_segment_lookup(client, "gone").iloc[0]["location"] == "Oslo"
    assert segwork.customer_segment_lookup(client, "late", as_of="2023-08-15").iloc[0]["value_segment"] == "Low Value"
    assert segwork.customer_segment_lookup(client, "late").iloc[0]["value_segment"] == "High Value"  # the late one is older
    assert segwork.customer_segment_lookup(client, "future", as_of="2024-02-29").empty
    versions = history.profile_versions(client, "gone")
    assert list(versions["is_deleted"]) == [0, 1, 0] and versions["timestamp"].is_monotonic_decreasing


def test_events_after_as_of_are_not_counted(client):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    segwork.ingest(client, "customer_events", events_frame())
    got = segwork.customer_engagement_analysis(client, "2023-01-01", "2024-12-31", limit=50, as_of="2023-06-01")
    assert got["last_event"].max() <= T("2023-06-01")
    assert set(got["customer_id"]) == {"up", "down", "gone", "nobody"}
    assert got.set_index("customer_id").loc["up", "event_count"] == 2  # its 2024 event is after as_of


def test_a_deleted_customer_is_gone_now_and_there_before(client):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    history.delete_customers(client, ["up", "down"], at="2024-06-01")
    now = segwork.customer_segments_summary(client)
    assert now["customer_count"].sum() == 3  # gone, late, future
    assert segwork.customer_segments_summary(client, as_of="2024-05-31")["customer_count"].sum() == 5
    # an older version arriving after the deletion changes the past, not the present
    segwork.ingest(client, "customers", pd.DataFrame([profile("up", "2023-03-01", 50)]))
    assert segwork.customer_segment_lookup(client, "up").empty
    assert segwork.customer_segment_lookup(client, "up", as_of="2023-04-01").iloc[0]["lifetime_value"] == 50
    with pytest.raises(ParameterError, match="at"):
        history.delete_customers(client, "up", at="yesterday-ish")


@pytest.mark.engine_paths("embedded")
def test_queries_at_each_stage_answer_as_they_did_then(client):
    """Ingest in stages; query at each stage's time right then; after the last stage the same
    queries at those times give the same answers."""
    customers = synth.customers(400, seed=5, end="2024-12-31", years=2)
    events = synth.events(6000, 450, seed=6, end="2024-12-31", days=360)
    rng = np.random.default_rng(9)
    later = customers.sample(250, random_state=3).copy()  # second versions, other values, spread in time
    later["lifetime_value"] = np.round(rng.uniform(0, 2500, len(later)), 2)
    later["location"] = "Paris"
    later["timestamp"] = T("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, len(later)), unit="s")
    versions = pd.concat([customers, later], ignore_index=True)
    stages = [T("2024-03-31 23:59:59"), T("2024-06-30 23:59:59"), T("2024-09-30 23:59:59"), T("2024-12-31 23:59:59")]
    captured, previous = [], T("1970-01-01")
    for end in stages:
        segwork.ingest(client, "customers", versions[(versions.timestamp > previous) & (versions.timestamp <= end)])
        segwork.ingest(client, "customer_events", events[(events.timestamp > previous) & (events.timestamp <= end)])
        captured.append(answers(client, end, customers["customer_id"].iloc[:40]))
        previous = end
    for end, then in zip(stages, captured):
        now = answers(client, end, customers["customer_id"].iloc[:40])
        for name in then:
            pd.testing.assert_frame_equal(now[name], then[name], obj=f"{name} at {end}")


def answers(client, as_of, ids) -> dict[str, pd.DataFrame]:
    lookups = pd.concat([segwork.customer_segment_lookup(client, cid, as_of=as_of) for cid in ids], ignore_index=True)
    return {
        "summary": segwork.customer_segments_summary(client, as_of=as_of),
        "summary Paris 30-50": segwork.customer_segments_summary(client, "Paris", 30, 50, as_of=as_of),
        "engagement": segwork.customer_engagement_analysis(client, as_of - pd.Timedelta(days=90), as_of, limit=30,
                                                           location="Paris", as_of=as_of),
        "lookups": lookups,
    }


@pytest.fixture(scope="module")
def generated():
    """~1,000 versions of 400 customers: several versions each, values up and down, some
    signup dates moved, some deleted (and some of those re-created)."""
    rng = np.random.default_rng(17)
    base = synth.customers(400, seed=8, end="2024-06-30", years=2)
    rows = [base]
    for k in range(1, 4):
        more = base.sample(frac=0.5, random_state=k).copy()
        more["lifetime_value"] = np.round(rng.lognormal(6.2, 1.0, len(more)), 2)
        more["timestamp"] = more["timestamp"] + pd.to_timedelta(rng.integers(1, 300 * 86400, len(more)), unit="s")
        moved = rng.random(len(more)) < 0.1
        more.loc[moved, "signup_date"] = more.loc[moved, "signup_date"] - pd.Timedelta(days=200)
        more.loc[rng.random(len(more)) < 0.2, "location"] = "Paris"
        rows.append(more)
    versions = pd.concat(rows, ignore_index=True).drop_duplicates(["customer_id", "timestamp"])
    deleted = {cid: T("2024-03-01") + pd.Timedelta(days=int(d))
               for cid, d in zip(base["customer_id"].sample(40, random_state=11), rng.integers(0, 200, 40))}
    return versions, deleted


@pytest.fixture
def loaded(client, generated):
    versions, deleted = generated
    segwork.ingest(client, "customers", versions)
    stored = {cid: at for cid, at in deleted.items() if history.delete_customers(client, cid, at=at)}
    first = versions.groupby("customer_id")["timestamp"].min()
    assert set(stored) == {cid for cid, at in deleted.items() if first[cid] <= at} and len(stored) > 20
    return client, as_stored(versions.to_dict("records"), stored)


@pytest.mark.engine_paths("embedded")
def test_generated_history_summary_sizes_transitions_and_changes(loaded):
    client, versions = loaded
    for as_of in ["2023-09-30 12:00", "2024-02-15", "2024-08-01", "2025-03-01"]:
        got = segwork.customer_segments_summary(client, as_of=as_of)
        want = oracle.summary(versions, T(as_of), RULES)
        assert list(got.customer_count) == list(want.customer_count), as_of
    # sizes at the end of each week, with and without a location and age filter
    for filters in [{}, {"location": "Paris", "min_age": 30, "max_age": 60}]:
        got = through_time.segment_sizes(client, "2024-01-01", "2024-06-30", every="week", **filters)
        days = sorted(got["day"].unique())
        assert days[-1] == pd.Timestamp("2024-06-30").date() and all(d.weekday() == 6 for d in days)
        want = oracle.segment_sizes(versions, days, RULES, **filters)
        merged = got.merge(want, on=["day", "value_segment", "loyalty_segment"], how="left", suffixes=("", "_pandas"))
        assert (merged["customers"] == merged["customers_pandas"].fillna(0)).all(), filters
        assert merged["customers"].sum() > 0
    # transitions in each segmenting, and every flow's members
    a, b = "2023-12-31", "2024-06-30"
    for by in through_time.BY:
        flows = through_time.transitions(client, a, b, by=by)
        got = flows.groupby(["from_state", "to_state"], as_index=False)["customers"].sum()
        want = oracle.transitions(versions, T(a) + pd.Timedelta(hours=23, minutes=59, seconds=59),
                                  T(b) + pd.Timedelta(hours=23, minutes=59, seconds=59), RULES, by)
        want = want[~((want.from_state == oracle.OUTSIDE) & (want.to_state == oracle.OUTSIDE))]
        pd.testing.assert_frame_equal(got.sort_values(["from_state", "to_state"]).reset_index(drop=True),
                                      want.sort_values(["from_state", "to_state"]).reset_index(drop=True), check_dtype=False)
    flows = through_time.transitions(client, a, b)
    biggest = flows.sort_values("customers").iloc[-1]
    members = through_time.transition_members(client, a, b, biggest.from_state, biggest.to_state, limit=10_000)
    total = flows[(flows.from_state == biggest.from_state) & (flows.to_state == biggest.to_state)]["customers"].sum()
    assert len(members) == members["total_rows"].iloc[0] == total
    # enter / exit for a combined, a value and a loyalty segment
    end_a, end_b = T(a) + pd.Timedelta(seconds=86399), T(b) + pd.Timedelta(seconds=86399)
    for name, label, by in [("High Value / Regular", "High Value · Regular", "segment"), ("high value", "High Value", "value"),
                            ("Loyal", "Loyal", "loyalty")]:
        changes = through_time.segment_changes(client, name, a, b)
        entered, exited = oracle.segment_changes(versions, label, by, end_a, end_b, RULES)
        assert set(changes[changes.change_kind == "entered"].customer_id) == entered, name
        assert set(changes[changes.change_kind == "exited"].customer_id) == exited, name
        assert entered or exited


def test_why_names_the_rule_that_flipped(client):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    history.delete_customers(client, "gone", at=DELETED_AT)
    flows = through_time.transitions(client, "2023-05-01", "2024-01-31")
    why = {(r.from_state, r.to_state): r.why for r in flows.itertuples()}
    # on 2023-05-01 everyone signed up 120 days before (New); on 2024-01-31, 395 days (Loyal)
    assert why[("Low Value · New", "High Value · Loyal")] == "lifetime value rose past 1,000; signup aged past 365 days"
    assert why[("High Value · New", "Low Value · Loyal")] == "lifetime value fell below 500; signup aged past 365 days"
    assert why[("Medium Value · New", oracle.OUTSIDE)] == "deleted"
    assert flows.set_index(["from_state", "to_state"]).loc[("Medium Value · New", "High Value · Loyal"), "customers"] == 1
    late = through_time.transitions(client, "2024-01-31", "2024-03-31")
    assert set(late[late.from_state == oracle.OUTSIDE]["why"]) == {"new customer"}
    matrix = through_time.transition_matrix(flows)
    assert list(matrix.index) == [s for s in through_time.places("segment") if s in matrix.index]
    assert matrix.to_numpy().sum() == flows["customers"].sum()
    by_value = through_time.transitions(client, "2023-05-01", "2024-01-31", by="value")
    assert set(by_value["why"]) >= {"lifetime value rose past 1,000", "lifetime value fell below 500", "deleted"}


def test_enter_exit_since_the_last_export(client):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    changes = through_time.segment_changes(client, "High Value", "2023-05-01", "2024-01-31")
    assert dict(zip(changes.customer_id, changes.change_kind)) == {"up": "entered", "late": "entered", "down": "exited"}
    with pytest.raises(ParameterError, match="no export of 'High Value' is recorded yet"):
        through_time.segment_changes(client, "High Value", "last")
    through_time.record_export(client, "high value", "2023-05-01", "2024-01-31", 2, 1, "test")
    since_last = through_time.segment_changes(client, "High Value", "last", "2024-03-31")
    assert list(since_last.customer_id) == ["future"]
    assert through_time.exports_made(client)["segment"].tolist() == ["High Value"]


@pytest.mark.parametrize("name", ["Gold", "High Value; DROP TABLE customers", "", "High Value / Loyal / New"])
def test_a_segment_name_outside_the_list_is_refused(name):
    with pytest.raises(ParameterError, match="segment"):
        through_time.segment_name(name)


def test_bad_dates_are_refused_with_the_parameter_named(client):
    with pytest.raises(ParameterError, match="date_a.*not before date_b"):
        through_time.transitions(client, "2024-02-01", "2024-01-01")
    with pytest.raises(ParameterError, match="every"):
        through_time.segment_sizes(client, "2024-01-01", "2024-02-01", every="hour")
    with pytest.raises(ParameterError, match="to_state"):
        through_time.transition_members(client, "2024-01-01", "2024-02-01", "High Value · Loyal", "Gold")


def test_versions_left_out_of_the_history_by_a_killed_ingest_are_put_back(client):
    """An insert writes customers, then its view writes customer_history: a process killed in
    between leaves versions out of the history. The next profile write of a process repairs
    them when an interrupted profile ingest is listed (what a kill leaves in ingest_log)."""
    from segwork.ingestion import dedup

    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    # as if killed between the insert's two writes: no history rows, and no record of the block
    # (ingest_blocks is written after the data insert, so a kill there leaves none)
    client.command("DELETE FROM customer_history WHERE customer_id = 'up'")
    client.command("DELETE FROM ingest_blocks WHERE table_name = 'customers'")
    assert segwork.customer_segment_lookup(client, "up", as_of="2023-07-01").empty  # the hole, seen
    assert dedup.repair_history(client) == 0  # no interrupted profile ingest: nothing compared
    client.command("INSERT INTO ingest_log (ingest_id, table_name, source, started_at, status, updated_at) "
                   "VALUES ('killed', 'customers', 'people.csv', now64(3), 'running', now64(6))")
    # customers keeps the latest version of each customer only (its versions of one insert are
    # collapsed as the part is written): that one comes back; the older ones ...
    assert dedup.repair_history(client) == 1
    assert segwork.customer_segment_lookup(client, "up", as_of="2024-07-01").iloc[0]["lifetime_value"] == 1500
    assert segwork.customer_segment_lookup(client, "up", as_of="2023-07-01").empty
    assert dedup.repair_history(client) == 0  # nothing missing any more
    # ... come back when the same input is ingested again, as the interrupted ingest's note says
    again = segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    assert (again.inserted, again.duplicates) == (2, len(FIRST) - 2)
    assert segwork.customer_segment_lookup(client, "up", as_of="2023-07-01").iloc[0]["lifetime_value"] == 700


def test_a_saved_segment_through_time_is_its_count_at_each_point(client):
    from segwork import custom

    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    rich = custom.Segment("rich", all=[custom.Field("lifetime_value", ">=", 1000)])
    custom.save(client, rich)
    seen = []
    got = through_time.saved_segment_sizes(client, "rich", "2023-01-01", "2024-03-31", every="month",
                                           progress=lambda i, n: seen.append((i, n)))
    assert len(got) == 15 and seen[-1] == (15, 15)
    versions = as_stored(FIRST)
    for row in got.itertuples():
        end = T(row.day) + pd.Timedelta(seconds=86399)
        assert row.customers == int((oracle.segmented(versions, end, RULES)["lifetime_value"] >= 1000).sum()), row.day
    assert got.set_index("day")["customers"].max() == 3  # down (Feb-Aug 2023), late (Dec), up (Jan), future (Mar 2024)
