"""The Segment builder and Saved segments pages under AppTest, on generated data in the embedded
engine: every number shown equals segwork.custom's, and a few equal an independent pandas count."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import segwork
from segwork import custom
from segwork.custom import Events, Field, Segment
from segwork.custom.compare import composition, event_mix, overlap
from tests.test_app import app_db, fresh_caches, open_page, shop, shop_template, texts  # noqa: F401 (fixtures)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table_with(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def shown(at) -> str:
    """The page's text as a person reads it (markdown escapes removed)."""
    return texts(at).replace("\\", "")


def chart_bars(at, index: int) -> dict:
    """A horizontal bar chart's bars as {label: value}."""
    out = {}
    for trace in json.loads(at.get("plotly_chart")[index].proto.spec)["data"]:
        out |= dict(zip(trace["y"], (int(v.replace(",", "")) for v in trace["text"])))
    return out


def add_field(at, field: str, op: str, value, *, target: str = "the segment"):
    at.selectbox(key="bd_new_kind").set_value("field").run()
    at.selectbox(key="bd_new_field").set_value(field).run()
    kind = custom.model.FIELDS[field][0]
    at.selectbox(key=f"bd_new_op_{kind}_{field == 'age'}").set_value(op).run()
    many = op in ("in", "not in")
    key = f"bd_new_value_{field}_{many}"
    if op in ("is unknown", "is known"):
        pass
    elif kind == "number" and not many:
        at.number_input(key=key).set_value(value)
    elif field in ("location", "value_segment", "loyalty_segment"):
        (at.multiselect if many else at.selectbox)(key=key).set_value(value)
    else:
        at.text_input(key=key).set_value(value)
    at.radio(key="bd_new_target").set_value(target)
    at.button(key="bd_add").click().run()
    assert not at.exception, at.exception
    return at


def add_events(at, event_type: str, op: str, value: float, days: int):
    at.selectbox(key="bd_new_kind").set_value("events").run()
    at.selectbox(key="bd_new_type").set_value(event_type)
    at.selectbox(key="bd_new_event_op").set_value(op)
    at.number_input(key="bd_new_event_value").set_value(value)
    at.number_input(key="bd_new_days").set_value(days)
    at.button(key="bd_add").click().run()
    assert not at.exception, at.exception
    return at


def test_builder_counts_each_condition_and_the_segment_as_the_library_and_pandas_do(shop):
    at = open_page("builder")
    assert "Add a condition to see how many customers match." in texts(at)
    add_field(at, "lifetime_value", ">=", 500.0)
    add_events(at, "page_view", ">=", 2, 3650)
    expected = Segment("untitled", all=[Field("lifetime_value", ">=", 500.0), Events("page_view", ">=", 2, days=3650)])
    size = custom.count(shop, expected)
    assert metric(at, "Customers in the segment") == f"{size:,}"
    counts = custom.condition_counts(shop, expected)
    # the chart's bars are the library's counts, labelled in words
    bars = chart_bars(at, 0)
    assert bars == {"1. lifetime_value >= 500": int(counts["customers"].iloc[0]),
                    "2. number of page_view events in the last 3650 days >= 2": int(counts["customers"].iloc[1]),
                    "the segment": size, "every customer": int(counts["customers"].iloc[3])}
    # an independent pandas count of the first condition alone (profiles as they are now)
    people = shop.query_df("SELECT customer_id, argMax(lifetime_value, timestamp) AS ltv FROM customers GROUP BY customer_id")
    assert int(counts["customers"].iloc[0]) == int((people["ltv"] >= 500).sum())
    members = table_with(at, "email")
    assert list(members["customer_id"]) == list(custom.members(shop, expected, limit=50)["customer_id"])


def test_builder_any_of_with_a_nested_group_and_removal(shop):
    at = open_page("builder")
    add_field(at, "location", "=", "Paris")
    assert "bd_group_match" not in [s.key for s in at.selectbox]  # no nested group: nothing to ask about it
    add_field(at, "age", "is unknown", None, target="the nested group")
    add_field(at, "value_segment", "=", "High Value", target="the nested group")
    at.selectbox(key="bd_group_match").set_value("all").run()
    at.radio(key="bd_match").set_value("any").run()
    expected = Segment("untitled", any=[Field("location", "=", "Paris"),
                                        custom.Group("all", (Field("age", "is unknown"), Field("value_segment", "=", "High Value")))])
    assert metric(at, "Customers in the segment") == f"{custom.count(shop, expected):,}"
    people = shop.query_df("SELECT customer_id, argMax(location, timestamp) AS location FROM customers GROUP BY customer_id")
    paris = int((people["location"] == "Paris").sum())
    assert int(custom.condition_counts(shop, expected)["customers"].iloc[0]) == paris
    at.button(key="bd_remove_bd_group_0").click().run()
    expected = Segment("untitled", any=[Field("location", "=", "Paris"), custom.Group("all", (Field("value_segment", "=", "High Value"),))])
    assert metric(at, "Customers in the segment") == f"{custom.count(shop, expected):,}"


def test_builder_saves_a_version_loads_it_and_edits_yaml(shop):
    at = open_page("builder")
    add_field(at, "location", "in", ["Paris", "Berlin"])
    at.text_input(key="bd_name").set_value("europe two")
    at.text_input(key="bd_note").set_value("first cut")
    next(b for b in at.button if b.label == "Save").click().run()
    assert [s.value for s in at.success] == ["Saved **europe two** as version 1."], [e.value for e in at.error]
    assert custom.get(shop, "europe two") == Segment("europe two", all=[Field("location", "in", ["Paris", "Berlin"])])
    assert custom.versions(shop, "europe two")["note"].iloc[0] == "first cut"
    assert "europe two" in at.selectbox(key="bd_pick").options  # the list to edit already has it
    next(b for b in at.button if b.label == "Save").click().run()  # the same again: no new version
    assert "as version 1." in at.success[0].value
    at.text_input(key="bd_name").set_value("-bad name")
    next(b for b in at.button if b.label == "Save").click().run()
    assert at.error[0].value.startswith("Not saved: segment name '-bad name' is not allowed")

    at.button(key="bd_clear").click().run()
    assert "Add a condition to see how many customers match." in texts(at)
    at.selectbox(key="bd_pick").set_value("europe two").run()
    at.button(key="bd_load").click().run()
    assert "1. location in [Paris, Berlin]" in shown(at)
    assert at.text_area(key="bd_yaml").value.startswith("name: europe two")

    at.text_area(key="bd_yaml").set_value("name: europe two\nall:\n  - {field: age, op: '<', value: many}\n")
    at.button(key="bd_yaml_apply").click().run()
    assert [e.value for e in at.error] == ["segment 'europe two' > all[1]: value 'many' is not a finite number"]
    at.text_area(key="bd_yaml").set_value("name: europe two\nall:\n  - {field: age, op: '<', value: 40}\n")
    at.button(key="bd_yaml_apply").click().run()
    assert "1. age < 40" in shown(at)
    assert metric(at, "Customers in the segment") == f"{custom.count(shop, Segment('x', all=[Field('age', '<', 40)])):,}"


def test_builder_refuses_a_bad_condition_with_the_library_message(shop):
    at = open_page("builder")
    add_field(at, "age", "in", "thirty")
    assert [e.value for e in at.error] == ["the new condition: age in takes numbers separated by commas, e.g. 30, 40"]
    add_field(at, "gender", "in", " , ")
    assert [e.value for e in at.error] == ["the new condition: 'in' takes a list of values, e.g. [Paris, Rome]"]


def test_saved_segments_list_sizes_members_composition_versions_and_sql(shop):
    custom.save(shop, Segment("paris big", all=[Field("location", "=", "Paris"), Field("lifetime_value", ">=", 300)]), "v1")
    at = open_page("saved", segment="paris big")
    listing = table_with(at, "customers")
    sizes = custom.sizes(shop).set_index("segment")["customers"]
    assert dict(zip(listing["name"], listing["customers"])) == sizes.to_dict()
    people = shop.query_df("SELECT customer_id, argMax(location, timestamp) AS location, argMax(lifetime_value, timestamp) AS ltv "
                           "FROM customers GROUP BY customer_id")
    by_pandas = int(((people["location"] == "Paris") & (people["ltv"] >= 300)).sum())
    assert sizes["paris big"] == by_pandas
    assert f"**paris big**: {by_pandas:,} customers" in texts(at)
    everyone = custom.members(shop, "paris big", limit=1000)
    assert list(table_with(at, "email")["customer_id"]) == list(everyone["customer_id"][:50])
    assert at.get("download_button")[0].label == f"Download all {by_pandas:,} members (CSV)"
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    mix = "Events per member" if len(event_mix(shop, "paris big", days=30)) else "no events in the last 30 days"
    assert any("Members by location" in s for s in specs) and any(mix in s for s in specs)
    assert table_with(at, "removed")["note"].tolist() == ["v1"]
    text, parameters = custom.sql_of(shop, "paris big")
    assert at.code[0].value == text and "Paris" not in text


def test_compare_two_segments_and_one_against_everyone(shop):
    a = Segment("big spenders", all=[Field("lifetime_value", ">=", 1000)])
    b = Segment("parisians", all=[Field("location", "=", "Paris")])
    custom.save(shop, a)
    custom.save(shop, b)
    at = open_page("saved")
    at.selectbox(key="sv_segment_a").set_value("big spenders").run()
    sizes = overlap(shop, "big spenders", None)
    assert metric(at, "only A") == "0" and metric(at, "B: every customer") == f"{sizes['everyone']:,}"
    at.selectbox(key="sv_compare").set_value("parisians").run()
    sizes = overlap(shop, "big spenders", "parisians")
    assert (metric(at, "both"), metric(at, "only A"), metric(at, "only B")) == tuple(
        f"{sizes[k]:,}" for k in ("both", "only_a", "only_b"))
    people = shop.query_df("SELECT customer_id, argMax(location, timestamp) AS location, argMax(lifetime_value, timestamp) AS ltv "
                           "FROM customers GROUP BY customer_id")
    assert sizes["both"] == int(((people["location"] == "Paris") & (people["ltv"] >= 1000)).sum())
    at.selectbox(key="sv_by").set_value("location").run()
    side = table_with(at, "difference")
    mine = composition(shop, "big spenders", by="location").set_index("location")["share"]
    assert side.set_index("location")["share_a"].round(9).to_dict() == mine.round(9).to_dict() | {
        k: 0.0 for k in set(side["location"]) - set(mine.index)}
    assert side.set_index("location").loc["Paris", "share_b"] == 1.0
    assert at.query_params["compare"] == "parisians"


def test_a_link_compares_two_saved_segments_and_an_unknown_name_is_ignored_with_a_note(shop):
    custom.save(shop, Segment("big spenders", all=[Field("lifetime_value", ">=", 1000)]))
    at = open_page("saved", a="big spenders", compare="lapsed high value")
    sizes = overlap(shop, "big spenders", "lapsed high value")
    assert metric(at, "A: big spenders") == f"{sizes['a']:,}" and metric(at, "both") == f"{sizes['both']:,}"
    at = open_page("saved", segment="no such segment")
    assert any("ignored the link's segment='no such segment'" in w.value for w in at.warning)
    assert not at.error


def test_builder_with_another_saved_segment_and_an_rfm_score(shop):
    at = open_page("builder")
    at.selectbox(key="bd_new_kind").set_value("in_segment").run()
    at.selectbox(key="bd_new_segment").set_value("lapsed high value")
    at.checkbox(key="bd_new_negate").check()
    at.button(key="bd_add").click().run()
    at.selectbox(key="bd_new_kind").set_value("rfm").run()
    at.selectbox(key="bd_new_score").set_value("r_score").run()
    at.selectbox(key="bd_new_rfm_op_False").set_value(">=").run()
    at.selectbox(key="bd_new_rfm_value_False_False").set_value(4)
    at.button(key="bd_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    expected = Segment("untitled", all=[custom.InSegment("lapsed high value", negate=True), custom.Rfm("r_score", ">=", 4)])
    assert "1. not in segment 'lapsed high value'" in shown(at) and "2. r_score >= 4" in shown(at)
    assert metric(at, "Customers in the segment") == f"{custom.count(shop, expected):,}"
    assert at.text_area(key="bd_yaml").value == custom.to_yaml(expected)


@pytest.mark.parametrize("name", ["builder", "saved"])
def test_builder_and_saved_pages_work_on_an_empty_database(app_db, name):
    at = open_page(name)
    assert not at.error, [e.value for e in at.error]
    assert "Segment rules in force:" in texts(at)


def test_charts_of_your_own_segments_keep_their_colours_and_words():
    from segwork import charts

    sizes = {"a": 5, "b": 100, "both": 5, "only_a": 0, "only_b": 95, "everyone": 100}
    fig = charts.overlap(sizes, "vips", "every customer")
    assert [(t.name, t.x[0], t.marker.color) for t in fig.data] == [
        ("in vips", 5, charts.COMPARE_COLORS["A"]), ("every other customer", 95, charts.COMPARE_COLORS["every customer"])]
    fig = charts.overlap({**sizes, "b": 7, "both": 3, "only_a": 2, "only_b": 4}, "vips", "parisians")
    assert [t.name for t in fig.data] == ["only vips", "both", "only parisians"]
    side = pd.DataFrame({"location": ["Paris", "Rome", "Oslo"], "customers_a": [8, 2, 0], "share_a": [0.8, 0.2, 0.0],
                         "customers_b": [1, 2, 1], "share_b": [0.25, 0.5, 0.25], "difference": [0.55, -0.3, -0.25]})
    fig = charts.composition_compare(side, "location", "vips", "parisians")
    assert [a.text for a in fig.layout.annotations] == ["+55 pts", "-30 pts", "-25 pts"]
    assert [t.marker.color for t in fig.data] == [charts.COMPARE_COLORS["A"], charts.COMPARE_COLORS["B"]]
