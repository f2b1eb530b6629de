"""The Through time page under AppTest, on customers with several profile versions each (some
deleted, one re-created) and their events: the sizes, the from x to matrix, a flow's members and
the enter/exit counts it shows are those of an independent pandas computation on the versions;
a download of the changes is recorded as an export; Customer lookup shows the profile history."""
from __future__ import annotations

import io
import json
import uuid
from urllib.parse import unquote

import pandas as pd
import pytest

import segwork
from segwork import charts, history, through_time
from segwork.segments import DEFAULT_RULES, SEGMENTS, SegmentRules
from segwork.workbench import history_tables

from tests import history_data, oracle
from tests.test_app import app_db, fresh_caches, open_page, texts  # noqa: F401 (fixtures)

CUSTOMERS = 600
TABLES = {  # AppTest does not expose a dataframe's key: tell them by what only they have
    "tt_sizes_table": lambda f: "all segments" in f, "tt_matrix": lambda f: "total" in f,
    "tt_flows": lambda f: "why" in f and "customer_id" not in f,
    "tt_members": lambda f: "why" in f and "customer_id" in f and "from_state" not in f and "to_state" not in f,
    "tt_entered": lambda f: "from_state" in f and "customer_id" in f and "to_state" not in f,
    "tt_exited": lambda f: "to_state" in f and "customer_id" in f and "from_state" not in f,
    "tt_exports": lambda f: "destination" in f, "lk_versions": lambda f: "version_time" in f,
}


def table(at, key: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if TABLES[key](d.value.columns))


def tables_shown(at) -> set[str]:
    return {key for key, test in TABLES.items() if any(test(d.value.columns) for d in at.dataframe)}


def ids(frame: pd.DataFrame) -> list[str]:
    """The customer ids of a table whose ids are links to Customer lookup."""
    assert frame["customer_id"].str.startswith(history_tables.LOOKUP).all()
    return [unquote(link.removeprefix(history_tables.LOOKUP)) for link in frame["customer_id"]]


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def versions():
    """Every version stored (deletions included), as the oracle reads them."""
    stored = history_data.versions(CUSTOMERS).assign(is_deleted=0)
    return pd.concat([stored, history_data.deletions()], ignore_index=True)


@pytest.fixture(scope="module")
def template():
    """The versions, deletions and events, ingested once per module."""
    name = f"t_hist_{uuid.uuid4().hex[:8]}"
    c = segwork.connect("chdb://memory", database=name)
    profiles = history_data.versions(CUSTOMERS)
    assert segwork.ingest(c, "customers", profiles).inserted == len(profiles)
    segwork.ingest(c, "customer_events", history_data.events(profiles))
    for customer_id, at in history_data.DELETED.items():
        assert history.delete_customers(c, customer_id, at=at) == 1
    yield name
    c.command(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def hist(app_db, template):
    """The app's database with a copy of the template: every version (into customers, whose view
    fills customer_history), the events and the ingest log."""
    app_db.command(f"INSERT INTO customers SELECT * FROM `{template}`.customer_history")
    for name in ("customer_events", "ingest_log", "ingest_blocks"):
        app_db.command(f"INSERT INTO `{name}` SELECT * FROM `{template}`.`{name}`")
    return app_db


def end_of(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def places(versions: pd.DataFrame, day: str, by: str = "segment") -> pd.Series:
    """customer_id -> place at the end of `day`, by oracle.segmented (customers without a profile left out)."""
    p = oracle.segmented(versions, end_of(day), DEFAULT_RULES).set_index("customer_id")
    return {"segment": p["value_segment"] + " · " + p["loyalty_segment"], "value": p["value_segment"],
            "loyalty": p["loyalty_segment"]}[by]


def moves(versions: pd.DataFrame, a: str, b: str, by: str = "segment") -> pd.DataFrame:
    """customer_id, from_state, to_state between the ends of days a and b (OUTSIDE: no profile)."""
    both = pd.concat({"from_state": places(versions, a, by), "to_state": places(versions, b, by)}, axis=1)
    return both.fillna(through_time.OUTSIDE).rename_axis("customer_id").reset_index()


# Segment sizes over time

def test_segment_sizes_are_those_of_pandas_at_every_month_end(hist, versions):
    at = open_page("through_time", start="2025-06-01", end="2026-06-30", every="month")
    assert not at.error, [e.value for e in at.error]
    sizes = table(at, "tt_sizes_table").set_index("day")
    assert len(sizes) == 13 and list(sizes.columns) == [*SEGMENTS, "all segments"]
    for day in sizes.index:
        expected = places(versions, f"{day:%Y-%m-%d}").value_counts()
        assert sizes.loc[day, list(SEGMENTS)].to_dict() == {s: int(expected.get(s, 0)) for s in SEGMENTS}, day
        assert sizes.loc[day, "all segments"] == expected.sum()
    assert "counts each customer with their latest profile version by then" in texts(at)
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "over time" in c.proto.spec]
    assert [t["name"] for t in chart["data"]] == list(SEGMENTS)
    assert [t["line"]["color"] for t in chart["data"]] == [charts.segment_color(s) for s in SEGMENTS]
    assert chart["data"][0]["line"]["color"] == charts.SEGMENT_COLORS["High Value"]  # as the Segments page's bars
    assert [b.key for b in at.get("download_button")][0] == "tt_sizes_csv"
    assert json.loads([c for c in at.get("plotly_chart") if "over time" in c.proto.spec][0].proto.spec)["layout"]["yaxis"].get("type") != "log"
    at.checkbox(key="tt_log").check().run()  # small segments beside a large one: the log axis, kept in the URL
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "over time" in c.proto.spec]
    assert chart["layout"]["yaxis"]["type"] == "log" and at.query_params["log"] == "1"
    assert table(at, "tt_sizes_table").set_index("day").equals(sizes)  # the same sizes


def test_segment_sizes_per_value_segment_in_one_location_weekly(hist, versions):
    at = open_page("through_time", start="2026-01-01", end="2026-03-31", every="week", lines="value", location="Paris")
    sizes = table(at, "tt_sizes_table").set_index("day")
    assert list(sizes.columns) == ["High Value", "Medium Value", "Low Value", "all segments"]
    assert all(d.weekday() == 6 for d in sizes.index[:-1]) and f"{sizes.index[-1]}" == "2026-03-31"
    for day in (sizes.index[0], sizes.index[5], sizes.index[-1]):
        p = oracle.segmented(versions, end_of(f"{day}"), DEFAULT_RULES)
        expected = p[p["location"] == "Paris"]["value_segment"].value_counts()
        assert sizes.loc[day, ["High Value", "Medium Value", "Low Value"]].tolist() == [
            int(expected.get(s, 0)) for s in ("High Value", "Medium Value", "Low Value")]
    assert at.query_params["lines"] == "value" and at.query_params["location"] == "Paris"


def test_the_session_rules_segment_the_sizes_and_say_why_customers_moved(hist, versions):
    rules = SegmentRules(300, 100, 200, 90)
    at = open_page("through_time", start="2026-03-01", end="2026-04-30", rules="300,100,200,90", a="2026-01-31", b="2026-04-30")
    sizes = table(at, "tt_sizes_table").set_index("day")
    p = oracle.segmented(versions, end_of("2026-03-31"), rules)
    expected = (p["value_segment"] + " · " + p["loyalty_segment"]).value_counts()
    assert sizes.loc[pd.Timestamp("2026-03-31").date(), list(SEGMENTS)].tolist() == [int(expected.get(s, 0)) for s in SEGMENTS]
    whys = " ".join(table(at, "tt_flows")["why"])
    assert "past 300" in whys or "below 300" in whys or "past 100" in whys
    assert "1,000" not in whys and "past 365 days" not in whys
    assert "past 90 days" in whys or "past 200 days" in whys


def test_sizes_before_the_first_profile_version_are_explained(hist):
    at = open_page("through_time", start="2023-01-01", end="2023-12-31")
    assert "No customer had a profile before 2023-06-" in texts(at)
    assert "not from their signup date" in texts(at)
    at = open_page("through_time", start="2020-01-01", end="2020-12-31")
    assert "No customer had a profile in this range" in texts(at)


# Transitions

def test_the_matrix_and_the_flows_are_those_of_pandas(hist, versions):
    at = open_page("through_time", a="2025-12-31", b="2026-06-30")
    assert not at.error, [e.value for e in at.error]
    expected = pd.crosstab(*(moves(versions, "2025-12-31", "2026-06-30")[c] for c in ("from_state", "to_state")))
    matrix = table(at, "tt_matrix").set_index("at 2025-12-31 \\ at 2026-06-30")
    for a in expected.index:
        for b in expected.columns:
            assert matrix.loc[a, b] == expected.loc[a, b], (a, b)
    assert matrix.loc["total", "total"] == expected.to_numpy().sum()
    assert matrix.loc[through_time.OUTSIDE].drop("total").sum() > 0  # customers created in between
    flows = table(at, "tt_flows")
    assert flows["customers"].sum() == expected.to_numpy().sum()
    assert set(flows["why"]) >= {"new customer", "no change", "signup aged past 365 days"}
    deleted = flows[flows["to_state"] == through_time.OUTSIDE]
    assert set(deleted["why"]) == {"deleted"} and deleted["customers"].sum() == 2  # h0003 and h0007
    [sankey] = [json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart") if '"sankey"' in c.proto.spec]
    assert sum(sankey["link"]["value"]) == expected.to_numpy().sum()
    colours = dict(zip(sankey["node"]["label"], sankey["node"]["color"]))
    assert all(colours[label] == charts.segment_color(label.rsplit(" (", 1)[0]) for label in colours)
    assert any(label.startswith(through_time.OUTSIDE) and colour == "#999999" for label, colour in colours.items())


def test_a_flow_is_one_choice_away_paged_and_downloaded_whole(hist, versions):
    at = open_page("through_time", a="2025-12-31", b="2026-06-30")
    movers = moves(versions, "2025-12-31", "2026-06-30")
    first = at.selectbox(key="tt_flow").value  # the largest flow of customers who moved
    a, b = history_tables.split_flow(first)
    counts = movers[movers["from_state"] != movers["to_state"]].groupby(["from_state", "to_state"]).size()
    assert a != b and counts[(a, b)] == counts.max()
    assert ids(table(at, "tt_members")) == sorted(movers[(movers["from_state"] == a) & (movers["to_state"] == b)]["customer_id"])

    stayed = "Low Value · Loyal → Low Value · Loyal"
    at.selectbox(key="tt_flow").set_value(stayed).run()
    members = sorted(movers[(movers["from_state"] == "Low Value · Loyal") & (movers["to_state"] == "Low Value · Loyal")]["customer_id"])
    assert len(members) > 50
    assert ids(table(at, "tt_members")) == members[:50] and set(table(at, "tt_members")["why"]) == {"no change"}
    at.number_input(key="tt_page").set_value(2).run()
    assert ids(table(at, "tt_members")) == members[50:100]
    assert at.query_params["flow"] == stayed and at.query_params["page"] == "2"
    button = next(b for b in at.get("download_button") if b.key == "tt_members_csv")
    assert button.label == f"Download all {len(members):,} customers of this flow (CSV)"
    whole = pd.read_csv(io.BytesIO(history_tables.flow_export("2025-12-31", "2026-06-30", "segment", stayed)()))
    assert list(whole["customer_id"]) == members and "total_rows" not in whole

    link = open_page("through_time", **at.query_params)  # a link reproduces the view
    assert ids(table(link, "tt_members")) == members[50:100]


def test_deleted_customers_leave_for_not_a_customer_with_blank_values_after(hist, versions):
    at = open_page("through_time", a="2026-01-31", b="2026-06-30", by="value")
    gone = moves(versions, "2026-01-31", "2026-06-30", "value").query("to_state == @through_time.OUTSIDE")
    assert sorted(gone["customer_id"]) == ["h0003", "h0007"]
    for customer_id, from_state in zip(gone["customer_id"], gone["from_state"]):
        at.selectbox(key="tt_flow").set_value(f"{from_state} → {through_time.OUTSIDE}").run()
        members = table(at, "tt_members")
        assert customer_id in ids(members) and set(ids(members)) <= {"h0003", "h0007"}
        assert members["lifetime_value_b"].isna().all() and members["lifetime_value_a"].notna().all()
        assert set(members["why"]) == {"deleted"}


def test_transitions_from_before_anyone_existed_say_so(hist):
    at = open_page("through_time", a="2023-01-31", b="2023-12-31")
    assert "Nobody had a profile yet at the end of 2023-01-31" in texts(at)
    assert not at.error


# Who entered and who left

def test_enter_exit_counts_lists_and_a_recorded_download(hist, versions):
    at = open_page("through_time", segment="High Value", since="2026-01-31", until="2026-06-30")
    assert not at.error, [e.value for e in at.error]
    then, now = places(versions, "2026-01-31", "value"), places(versions, "2026-06-30", "value")
    entered = sorted(set(now[now == "High Value"].index) - set(then[then == "High Value"].index))
    exited = sorted(set(then[then == "High Value"].index) - set(now[now == "High Value"].index))
    assert entered and exited
    assert (metric(at, "Entered"), metric(at, "Exited")) == (f"{len(entered):,}", f"{len(exited):,}")
    assert ids(table(at, "tt_entered")) == entered and ids(table(at, "tt_exited")) == exited
    assert "None recorded yet" in texts(at) and "tt_exports" not in tables_shown(at)

    button = next(b for b in at.get("download_button") if b.key == "tt_changes_csv")
    assert button.label == f"Download the {len(entered) + len(exited):,} changes (CSV)"
    button.click().run()
    made = through_time.exports_made(hist, "High Value")
    assert len(made) == 1 and (made["entered"].iloc[0], made["exited"].iloc[0]) == (len(entered), len(exited))
    assert made["destination"].iloc[0] == "workbench download"
    assert f"{made['until'].iloc[0]:%Y-%m-%d %H:%M:%S}" == "2026-06-30 23:59:59"
    assert "Recorded: " in texts(at) and len(table(at, "tt_exports")) == 1

    at.checkbox(key="tt_last").check()  # since the last export, until a later day
    at.date_input(key="tt_until").set_value(pd.Timestamp("2026-09-30").date()).run()
    later = places(versions, "2026-09-30", "value")
    entered = sorted(set(later[later == "High Value"].index) - set(now[now == "High Value"].index))
    assert metric(at, "Entered") == f"{len(entered):,}" and ids(table(at, "tt_entered")) == entered
    assert at.query_params["last"] == "1" and "(the last export)" in texts(at)


def test_since_not_before_until_is_explained_not_an_error(hist):
    at = open_page("through_time", segment="Loyal", since="2026-06-30", until="2026-06-30")
    assert "Nothing to compare" in texts(at) and not at.error


# Customer lookup: the profile history

def test_lookup_shows_every_profile_version_with_what_changed(hist, versions):
    busy = versions[versions["is_deleted"] == 0].groupby("customer_id").size().idxmax()
    at = open_page("lookup", q=busy)
    shown = table(at, "lk_versions")
    mine = versions[versions["customer_id"] == busy].sort_values("timestamp", ascending=False)
    assert len(shown) == len(mine) > 2
    assert list(shown["lifetime_value"]) == list(mine["lifetime_value"])
    assert shown["change"].iloc[-1] == "first version"
    before, after = mine["lifetime_value"].iloc[1], mine["lifetime_value"].iloc[0]
    if before != after:
        assert f"lifetime_value {before:,.2f} → {after:,.2f}" in shown["change"].iloc[0]


def test_lookup_of_a_deleted_customer_shows_the_deletion_and_a_re_created_one_its_history(hist):
    at = open_page("lookup", q="h0003")
    assert any("h0003 is no longer a customer: deleted 2026-03-01 00:00:00 UTC" in w.value for w in at.warning)
    assert table(at, "lk_versions")["change"].iloc[0] == "deleted"
    back = table(open_page("lookup", q="h0011"), "lk_versions")
    assert list(back["change"][:2]) == ["re-created after a deletion", "deleted"]


def test_the_page_works_on_an_empty_database(app_db):
    at = open_page("through_time")
    assert not at.error, [e.value for e in at.error]
    assert "No customer had a profile in this range" in texts(at)
    assert "No customer had a profile at the end of" in texts(at)
    assert (metric(at, "Entered"), metric(at, "Exited")) == ("0", "0")


@pytest.mark.parametrize("param,raw,why", [("every", "year", "unknown every"), ("by", "age", "unknown by"),
                                           ("segment", "Gold", "unknown segment"), ("since", "yesterday", "not a date")])
def test_a_link_value_the_page_cannot_use_is_ignored_with_a_note(hist, param, raw, why):
    at = open_page("through_time", **{param: raw})
    assert any(w.value.startswith(f"ignored the link's {param}={raw!r}: {why}") for w in at.warning), [w.value for w in at.warning]
    assert not at.error
