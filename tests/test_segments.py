"""Segment rules: one definition, validated, the same in Python and SQL."""
from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork import sqlfiles
from segwork.errors import ConfigError
from segwork.segments import LOYALTY_SEGMENTS, VALUE_SEGMENTS, SegmentRules


def test_defaults_match_the_tutorial():
    r = SegmentRules()
    assert (r.value_segment(1000), r.value_segment(999.99), r.value_segment(500), r.value_segment(499)) == (
        "High Value", "Medium Value", "Medium Value", "Low Value")
    assert (r.loyalty_segment(366), r.loyalty_segment(365), r.loyalty_segment(181), r.loyalty_segment(180)) == (
        "Loyal", "Regular", "Regular", "New")


@pytest.mark.parametrize("changes, match", [
    ({"high_value": 100, "medium_value": 500}, "overlap"),
    ({"loyal_days": 30, "regular_days": 30}, "overlap"),
    ({"regular_days": -1}, "days >= 0"),
    ({"high_value": float("nan")}, "finite"),
    ({"loyal_days": 1.5}, "whole number"),
])
def test_invalid_rules_are_refused(changes, match):
    with pytest.raises(ConfigError, match=match):
        SegmentRules().with_changes(**changes)


def test_sql_rules_use_the_same_labels_and_thresholds(client):
    rules = SegmentRules()
    for v in (1500, 1000, 999.99, 600, 500, 499, 10):
        sql = sqlfiles.expand("SELECT segwork_value_segment({v:Float64}, {high_value:Float64}, {medium_value:Float64})")
        assert client.query(sql, parameters={"v": v, **rules.sql_parameters()}).result_rows[0][0] == rules.value_segment(v)
    for d in (400, 366, 365, 200, 181, 180, 0):
        sql = sqlfiles.expand("SELECT segwork_loyalty_segment(toDateTime('2024-01-01', 'UTC') - INTERVAL {d:Int32} DAY, "
                              "toDateTime('2024-01-01', 'UTC'), {loyal_days:Int64}, {regular_days:Int64})")
        assert client.query(sql, parameters={"d": d, **rules.sql_parameters()}).result_rows[0][0] == rules.loyalty_segment(d)
    assert {rules.value_segment(v) for v in (1500, 600, 10)} == set(VALUE_SEGMENTS)
    assert {rules.loyalty_segment(d) for d in (400, 200, 0)} == set(LOYALTY_SEGMENTS)


def test_two_databases_on_one_engine_do_not_share_their_rules(database):
    """SQL functions are global to a ClickHouse server (and to the embedded engine): another
    segwork database, or another deployment, redefining or dropping a function by segwork's
    rule names must leave this database's answers as they were."""
    ours, theirs = (segwork.connect("chdb://memory", database=f"{database}_{x}") for x in ("ours", "theirs"))
    profile = pd.DataFrame({"customer_id": ["c1"], "signup_date": ["2023-01-01"], "lifetime_value": [1500.0],
                            "timestamp": ["2024-01-01 00:00:00"]})
    for client in (ours, theirs):
        segwork.ingest(client, "customers", profile)

    def segments(client):
        row = segwork.customer_segment_lookup(client, "c1", as_of="2025-01-01").iloc[0]
        return row["value_segment"], row["loyalty_segment"]

    assert segments(ours) == ("High Value", "Loyal")
    try:
        theirs.command("CREATE OR REPLACE FUNCTION segwork_value_segment AS (v, h, m) -> 'theirs'")
        theirs.command("CREATE OR REPLACE FUNCTION segwork_loyalty_segment AS (s, a, l, r) -> 'theirs'")
        assert segments(ours) == ("High Value", "Loyal")
        theirs.command("DROP FUNCTION segwork_value_segment")
        theirs.command("DROP FUNCTION segwork_loyalty_segment")
        assert segments(ours) == ("High Value", "Loyal")
        theirs.command(f"DROP DATABASE `{database}_theirs`")
        assert segments(ours) == ("High Value", "Loyal")
        assert segwork.customer_segments_summary(ours, as_of="2025-01-01").customer_count.tolist() == [1]
    finally:
        ours.command("DROP FUNCTION IF EXISTS segwork_value_segment")
        ours.command("DROP FUNCTION IF EXISTS segwork_loyalty_segment")
        ours.command(f"DROP DATABASE IF EXISTS `{database}_ours`")
        ours.command(f"DROP DATABASE IF EXISTS `{database}_theirs`")


def test_rule_calls_are_written_out_in_every_query():
    for path in sqlfiles.SQL_DIR.glob("*.sql"):
        text = sqlfiles.load(path.stem)
        assert "segwork_value_segment" not in text and "segwork_loyalty_segment" not in text, path.name


def test_expand_keeps_arguments_whole_and_leaves_comments_and_strings_alone():
    sql = ("-- segwork_value_segment(x, 1, 2) in a comment\n"
           "SELECT segwork_value_segment(if(a, (b), c), {high:Float64}, f('x, y)')), 'segwork_value_segment(1, 2, 3)'")
    out = sqlfiles.expand(sql)
    assert out.startswith("-- segwork_value_segment(x, 1, 2) in a comment\nSELECT (multiIf((if(a, (b), c)) >= ({high:Float64}), ")
    assert "(f('x, y)'))" in out and out.endswith(", 'segwork_value_segment(1, 2, 3)'")
    with pytest.raises(ValueError, match="segwork_value_segment takes 3 arguments .* not 2"):
        sqlfiles.expand("SELECT segwork_value_segment(1, 2)")


def test_rule_parameters_are_what_the_sql_expects():
    names = set(SegmentRules().sql_parameters())
    for query in ("customer_segment_lookup", "customer_segments_summary", "customer_engagement_analysis", "segment_customers"):
        assert names <= set(sqlfiles.placeholders(query)), query


def test_segments_have_one_order_high_to_low_then_loyal_to_new():
    from segwork.segments import SEGMENTS, in_segment_order, segment_labels

    assert SEGMENTS[:4] == ("High Value · Loyal", "High Value · Regular", "High Value · New", "Medium Value · Loyal")
    frame = pd.DataFrame({"value_segment": ["Low Value", "Odd", "High Value", "Low Value", "High Value"],
                          "loyalty_segment": ["New", "Loyal", "New", "Loyal", "Loyal"], "customer_count": [5, 4, 3, 2, 1]})
    assert list(segment_labels(in_segment_order(frame))) == [
        "High Value · Loyal", "High Value · New", "Low Value · Loyal", "Low Value · New", "Odd · Loyal"]
    assert in_segment_order(frame.iloc[0:0]).empty
