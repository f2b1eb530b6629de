"""Segment rules: one definition, validated, the same in Python and SQL."""
from __future__ import annotations

import pytest

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


def test_sql_functions_use_the_same_labels(client):
    for v, want in [(1500, VALUE_SEGMENTS[0]), (600, VALUE_SEGMENTS[1]), (10, VALUE_SEGMENTS[2])]:
        assert client.query(f"SELECT segwork_value_segment({v}, 1000, 500)").result_rows[0][0] == want
    for d, want in [(400, LOYALTY_SEGMENTS[0]), (200, LOYALTY_SEGMENTS[1]), (0, LOYALTY_SEGMENTS[2])]:
        sql = f"SELECT segwork_loyalty_segment(toDateTime('2024-01-01', 'UTC') - INTERVAL {d} DAY, toDateTime('2024-01-01', 'UTC'), 365, 180)"
        assert client.query(sql).result_rows[0][0] == want


def test_rule_parameters_are_what_the_sql_expects():
    names = set(SegmentRules().sql_parameters())
    for query in ("customer_segment_lookup", "customer_segments_summary", "customer_engagement_analysis", "segment_customers"):
        assert names <= set(sqlfiles.placeholders(query)), query
