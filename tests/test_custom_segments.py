"""Your own segments: each condition kind against an independent pandas evaluation
(tests/custom_oracle.py) on hand-written rows and on generated data; YAML <-> objects <->
database round trips and versions; injection attempts stay data; invalid definitions name the
condition."""
from __future__ import annotations

import random

import pandas as pd
import pytest

import segwork
import segwork.queries
from segwork import analysis, custom, synth
from segwork.custom import DefinitionError, Events, Field, FirstEvent, Group, InSegment, LastEvent, Rfm, Segment
from segwork.segments import SegmentRules
from tests import custom_oracle
from tests import oracle as tests_oracle

RULES = SegmentRules()
AS_OF = pd.Timestamp("2026-11-01 12:00", tz="UTC")


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def person(cid, ltv, *, signup="2025-01-01", location="Paris", age=30, email=None, version="2026-01-01"):
    return {"customer_id": cid, "name": cid, "email": email or f"{cid}@shop.io", "age": age, "gender": "f",
            "location": location, "signup_date": ts(signup), "lifetime_value": float(ltv), "timestamp": ts(version)}


PEOPLE = [
    person("ann", 1500), person("bob", 1200, location="Rome", email="bob@Gmail.com"),
    person("cid", 300, signup="2026-10-20", age=None), person("dee", 700, location="Oslo", email="dee@gmail.com"),
    person("eve", 50, signup="2023-05-01"), person("fay", 2500, version="2026-12-01"),  # fay: only after as_of
]
EVENTS = [  # (customer, type, value, category, time)
    ("ann", "purchase", 100, "toys", "2026-10-30"), ("ann", "purchase", 50, "books", "2026-06-01"),
    ("ann", "login", 0, "", "2026-10-31"), ("bob", "purchase", 300, "toys", "2026-05-01"),
    ("cid", "login", 0, "", "2026-10-21"), ("cid", "login", 0, "", "2026-10-25"), ("cid", "login", 0, "", "2026-10-28"),
    ("cid", "product_view", 0, "toys", "2026-10-29"), ("dee", "purchase", 20, "home", "2026-10-15"),
    ("dee", "return", -20, "home", "2026-10-20"), ("eve", "page_view", 0, "", "2026-11-02"),  # after as_of
]


def events_frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{"event_id": f"e{i}", "customer_id": c, "event_type": t, "event_value": float(v), "product_id": "p",
                          "category": cat, "timestamp": ts(when)} for i, (c, t, v, cat, when) in enumerate(rows)])


@pytest.fixture
def shop(client):
    segwork.ingest(client, "customers", pd.DataFrame(PEOPLE))
    segwork.ingest(client, "customer_events", events_frame(EVENTS))
    return client


CASES = [  # (condition, expected members at AS_OF), written out by hand
    (Field("lifetime_value", ">=", 1000), {"ann", "bob"}),
    (Field("location", "in", ["Rome", "Oslo"]), {"bob", "dee"}),
    (Field("location", "not in", ["Paris"]), {"bob", "dee"}),
    (Field("age", "is unknown"), {"cid"}),
    (Field("age", "<", 40), {"ann", "bob", "dee", "eve"}),  # unknown age matches no comparison
    (Field("email_domain", "=", "GMAIL.com"), {"bob", "dee"}),
    (Field("days_since_signup", "<=", 30), {"cid"}),
    (Field("value_segment", "=", "Medium Value"), {"dee"}),
    (Field("loyalty_segment", "=", "Loyal"), {"ann", "bob", "dee", "eve"}),
    (Events("purchase", ">=", 2), {"ann"}),
    (Events("purchase", "=", 0), {"cid", "eve"}),  # never did
    (Events("login", ">=", 3, days=30), {"cid"}),
    (Events("purchase", ">=", 1, days=30), {"ann", "dee"}),
    (Events("purchase", ">=", 1, category="toys"), {"ann", "bob"}),  # bought in a category
    (Events(None, "=", 0, days=3650), {"eve"}),  # eve's only event is after as_of
    (Events("purchase", ">", 250, measure="total_value"), {"bob"}),
    (Events(None, "<=", 0, measure="total_value", days=30), {"bob", "cid", "dee", "eve"}),  # dee: +20 - 20 = 0
    (Events("purchase", ">=", 75, measure="avg_value"), {"ann", "bob"}),
    (Events("purchase", "<=", 75, measure="avg_value"), {"ann", "dee"}),  # no purchases: no average
    (Events("purchase", ">=", 1, start="2026-05-01", end="2026-06-01"), {"ann", "bob"}),
    (LastEvent("purchase", ">=", 90), {"bob", "cid", "eve"}),  # never counts as long ago
    (LastEvent("purchase", "<", 10), {"ann"}),
    (LastEvent(None, "<=", 7), {"ann", "cid"}),
    (FirstEvent(None, days=15), {"cid"}),
    (FirstEvent("purchase", start="2026-06-01", end="2026-10-31"), {"ann", "dee"}),  # ann: 2026-06-01 00:00
]


@pytest.mark.parametrize("condition,want", CASES, ids=[f"{i}-{type(c).__name__}" for i, (c, _) in enumerate(CASES)])
def test_each_condition_kind_on_hand_written_rows(shop, condition, want):
    segment = Segment("case", all=[condition])
    got = set(custom.members(shop, segment, as_of=AS_OF, limit=1000)["customer_id"])
    assert got == want
    assert got == custom_oracle.members(segment, pd.DataFrame(PEOPLE), events_frame(EVENTS), AS_OF, RULES)
    assert custom.count(shop, segment, as_of=AS_OF) == len(want)


def test_groups_rfm_and_membership_of_a_saved_segment(shop):
    buyers = Segment("buyers", "bought in the last 200 days", all=[Events("purchase", ">=", 1, days=200)])
    custom.save(shop, buyers)
    segment = Segment("mixed", all=[Group("any", (Field("location", "=", "Oslo"), InSegment("buyers"))),
                                    InSegment("lapsed high value", negate=True), Rfm("r_score", ">=", 2)])
    scores = analysis.rfm_scores(shop, as_of=AS_OF)
    saved = {"buyers": buyers, "lapsed high value": custom.get(shop, "lapsed high value")}
    want = custom_oracle.members(segment, pd.DataFrame(PEOPLE), events_frame(EVENTS), AS_OF, RULES, saved, scores)
    assert set(custom.members(shop, segment, as_of=AS_OF)["customer_id"]) == want and want
    counts = custom.condition_counts(shop, segment, as_of=AS_OF).set_index("condition")["customers"]
    assert counts["the segment"] == len(want) and counts["every customer"] == 5
    assert len(counts) == 5  # three conditions, the segment, everyone


def test_a_segment_that_contains_itself_is_refused(shop):
    custom.save(shop, Segment("a", all=[Field("location", "=", "Paris")]))
    custom.save(shop, Segment("b", all=[InSegment("a")]))
    with pytest.raises(DefinitionError, match="contains itself"):
        custom.save(shop, Segment("a", all=[InSegment("b")]))
    with pytest.raises(DefinitionError, match="contains itself"):
        custom.count(shop, Segment("a", all=[InSegment("b")]), as_of=AS_OF)
    with pytest.raises(DefinitionError, match="no saved segment 'ghost'"):
        custom.save(shop, Segment("c", all=[InSegment("ghost")]))


@pytest.mark.engine_paths("embedded")
def test_generated_data_random_definitions_match_pandas(client):
    people, events = synth.shop(800, 40_000, end="2026-11-01", years=3)
    segwork.ingest(client, "customers", people)
    segwork.ingest(client, "customer_events", events)
    scores = analysis.rfm_scores(client, as_of=AS_OF)
    rng = random.Random(5)
    kinds = [
        lambda: Field("lifetime_value", rng.choice([">=", "<"]), rng.choice([200, 500, 1000, 2000])),
        lambda: Field("location", "in", rng.sample(list(synth.LOCATIONS), 4)),
        lambda: Field("age", rng.choice(["<=", ">"]), rng.randint(20, 70)),
        lambda: Field("days_since_signup", ">", rng.choice([90, 365, 700])),
        lambda: Field("value_segment", "!=", "Low Value"),
        lambda: Events(rng.choice(synth.EVENT_TYPES), rng.choice([">=", "<=", "="]), rng.randint(0, 4), days=rng.choice([7, 30, 180, None])),
        lambda: Events("purchase", ">", rng.choice([50, 200, 800]), measure=rng.choice(["total_value", "avg_value"]), days=rng.choice([90, None])),
        lambda: Events("purchase", ">=", 1, category=rng.choice(synth.CATEGORIES), days=365),
        lambda: LastEvent(rng.choice(["purchase", "login", None]), rng.choice([">=", "<"]), rng.choice([7, 30, 90])),
        lambda: FirstEvent(rng.choice(["purchase", None]), days=rng.choice([60, 365])),
        lambda: Rfm(rng.choice(["r_score", "f_score", "m_score"]), rng.choice([">=", "<="]), rng.randint(1, 5)),
        lambda: Rfm("rfm_segment", "in", rng.sample(["Champions", "At Risk", "Hibernating", "Promising"], 2)),
    ]
    seen = 0
    for i in range(24):
        conditions = [rng.choice(kinds)() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4 and len(conditions) > 1:
            segment = Segment(f"g{i}", all=[conditions[0], Group("any", tuple(conditions[1:]))])
        else:
            segment = Segment(f"g{i}", **{rng.choice(["all", "any"]): conditions})
        got = set(custom.members(client, segment, as_of=AS_OF, limit=1_000_000)["customer_id"])
        want = custom_oracle.members(segment, people, events, AS_OF, RULES, rfm=scores)
        assert got == want, custom.to_yaml(segment)
        seen += bool(want)
    assert seen >= 12  # most definitions have members: the comparisons are not vacuous


def test_sizes_of_many_segments_in_one_pass_equal_their_counts(shop):
    mine = [Segment("rich", all=[Field("lifetime_value", ">=", 1000)]), Segment("active", all=[LastEvent(None, "<=", 7)])]
    sizes = custom.sizes(shop, mine, as_of=AS_OF)
    assert sizes.to_dict("records") == [{"segment": "rich", "customers": 2}, {"segment": "active", "customers": 2}]
    every = custom.sizes(shop, as_of=AS_OF)  # the saved ones: the shipped examples
    assert list(every["segment"]) == sorted(s.name for s in custom.examples())
    for name, n in zip(every["segment"], every["customers"]):
        assert n == custom.count(shop, name, as_of=AS_OF)


def test_yaml_objects_and_database_round_trip_with_versions(shop):
    segment = Segment("lapsed & loyal (EU)", "Loyal, no purchase in 60 days, in Europe", all=[
        Field("loyalty_segment", "=", "Loyal"), LastEvent("purchase", ">=", 60),
        Group("any", (Field("location", "in", ["Paris", "Rome", "Oslo"]), Field("email_domain", "=", "shop.eu"))),
        Events("purchase", ">=", 1, start="2026-01-01", end="2026-06-30", category="toys"), Field("age", "is known"),
        Rfm("rfm_segment", "not in", ["Hibernating"]), FirstEvent("purchase", days=365)])
    text = custom.to_yaml(segment)
    assert custom.from_yaml(text) == [segment]
    assert custom.from_json(custom.to_json(segment)) == segment
    assert custom.save(shop, segment, "first") == 1
    assert custom.save(shop, segment) == 1  # unchanged: no new version
    changed = Segment(segment.name, segment.description, all=[*segment.all[:-1], FirstEvent("purchase", days=180)])
    assert custom.save(shop, changed, "shorter window") == 2
    assert custom.get(shop, segment.name) == changed and custom.get(shop, segment.name, version=1) == segment
    assert list(custom.versions(shop, segment.name)["note"]) == ["shorter window", "first"]
    custom.remove(shop, segment.name)
    assert segment.name not in set(custom.listing(shop)["name"])
    assert custom.get(shop, segment.name, version=2) == changed  # history stays
    with pytest.raises(DefinitionError, match="no saved segment"):
        custom.get(shop, segment.name)


@pytest.mark.parametrize("value", ["Paris'); DROP TABLE customers; --", "{p0:String}", "\\' OR 1=1 --", "x' || '"])
def test_injection_attempts_in_values_and_descriptions_are_data(shop, value):
    segment = Segment("evil", value[:200], all=[Field("location", "=", value), Events(value, ">=", 0, category=value)])
    assert custom.count(shop, segment, as_of=AS_OF) == 0
    custom.save(shop, segment, note=value)
    assert custom.get(shop, "evil") == segment
    sql, parameters = custom.sql_of(shop, "evil", as_of=AS_OF)
    plain = Segment("plain", "x", all=[Field("location", "=", "x"), Events("x", ">=", 0, category="x")])
    assert sql == custom.sql_of(shop, plain, as_of=AS_OF)[0]  # the text does not depend on the values
    assert value in parameters.values()
    assert custom.count(shop, Segment("all", all=[Field("lifetime_value", ">=", 0)]), as_of=AS_OF) == 5  # nothing dropped


@pytest.mark.parametrize("data,message", [
    ({"name": "x", "all": [{"field": "salary", "op": ">", "value": 1}]}, r"'x' > all\[1\]: unknown field 'salary'"),
    ({"name": "x", "all": [{"events": "login", "op": "~", "value": 1}]}, r"all\[1\]: op '~' is not one of"),
    ({"name": "x", "any": [{"all": [{"last_event": "*", "op": ">=", "days": -3}]}]}, r"any\[1\] > all\[1\]: days -3"),
    ({"name": "x", "all": [{"rfm": "r_score", "op": ">=", "value": 7}]}, r"RFM score is a whole number 1..5"),
    ({"name": "x", "all": [{"field": "location", "op": "in", "value": "Paris"}]}, r"'in' takes a list"),
    ({"name": "x", "all": [{"events": "login", "op": ">=", "value": 1, "days": 3, "start": "2026-01-01"}]}, "either days"),
    ({"name": "x", "all": []}, "no conditions"),
    ({"name": "DROP TABLE;", "all": [{"field": "age", "op": "is known"}]}, "segment name"),
    ({"name": "x", "all": [{"colour": "red"}]}, "'colour' is not a kind of condition"),
    ({"name": "x", "all": [{"field": "location", "op": "is unknown"}]}, "for age only"),
])
def test_invalid_definitions_name_the_condition(data, message):
    with pytest.raises(DefinitionError, match=message):
        custom.from_dict(data)


def test_overlap_composition_and_event_mix_against_pandas(shop):
    from segwork.custom import compare

    rich = Segment("rich", all=[Field("lifetime_value", ">=", 1000)])
    paris = Segment("paris", all=[Field("location", "=", "Paris")])
    people, events = pd.DataFrame(PEOPLE), events_frame(EVENTS)
    a = custom_oracle.members(rich, people, events, AS_OF, RULES)
    b = custom_oracle.members(paris, people, events, AS_OF, RULES)
    assert compare.overlap(shop, rich, paris, as_of=AS_OF) == {
        "a": len(a), "b": len(b), "both": len(a & b), "only_a": len(a - b), "only_b": len(b - a), "everyone": 5}
    assert compare.overlap(shop, rich, as_of=AS_OF)["only_b"] == 3  # against everyone
    by_location = compare.composition(shop, None, "location", as_of=AS_OF)
    assert dict(zip(by_location.location, by_location.customers)) == {"Paris": 3, "Rome": 1, "Oslo": 1}
    assert by_location.share.sum() == pytest.approx(1.0)
    bands = compare.composition(shop, paris, "age_band", as_of=AS_OF)
    assert dict(zip(bands.age_band, bands.customers)) == {"25-34": 2, "unknown": 1}
    mix = compare.event_mix(shop, rich, days=30, as_of=AS_OF).set_index("event_type")
    assert mix.loc["purchase", "events"] == 1 and mix.loc["login", "customers"] == 1  # ann's; bob's purchase is in May
    with pytest.raises(segwork.ParameterError, match="by"):
        compare.composition(shop, rich, "salary")


def test_rule_change_impact_matrix_against_pandas(shop):
    new = SegmentRules(high_value=1300, medium_value=100, loyal_days=600, regular_days=10)
    got = segwork.queries.rule_change_impact(shop, new, as_of=AS_OF)
    before = tests_oracle.segmented(pd.DataFrame(PEOPLE), AS_OF, RULES).set_index("customer_id")
    after = tests_oracle.segmented(pd.DataFrame(PEOPLE), AS_OF, new).set_index("customer_id")
    pairs = pd.DataFrame({"from_segment": before.value_segment + " · " + before.loyalty_segment,
                          "to_segment": after.value_segment + " · " + after.loyalty_segment})
    want = pairs.groupby(["from_segment", "to_segment"]).size().rename("customers").reset_index()
    assert got.to_dict("records") == want.to_dict("records")
    assert (got.from_segment != got.to_segment).any()
