"""SQL files: every placeholder is fed by its wrapper, and nothing else is."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from segwork import db, queries, sqlfiles

CALLS = {
    "customer_segment_lookup": lambda c: queries.customer_segment_lookup(c, "x"),
    "customer_engagement_analysis": lambda c: queries.customer_engagement_analysis(c),
    "customer_engagement_with_inactive": lambda c: queries.customer_engagement_analysis(c, include_inactive=True),
    "customer_segments_summary": lambda c: queries.customer_segments_summary(c),
    "segment_customers": lambda c: queries.segment_customers(c, "High Value"),
    "find_customers": lambda c: queries.find_customers(c, "a"),
    "customer_timeline": lambda c: queries.customer_timeline(c, "a"),
    "customer_event_count": lambda c: pd.DataFrame({"events": [queries.customer_event_count(c, "a")]}),
    "events_over_time": lambda c: queries.events_over_time(c),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrapper_parameters_match_placeholders(client, monkeypatch, name):
    seen = {}
    real = db.query_df

    def spy(client_, sql_name, parameters, **options):
        seen[sql_name] = parameters
        return real(client_, sql_name, parameters, **options)

    monkeypatch.setattr(db, "query_df", spy)
    result = CALLS[name](client)
    assert isinstance(result, pd.DataFrame)
    assert set(seen[name]) == set(sqlfiles.placeholders(name))


def test_every_query_file_has_a_purpose_header():
    for path in sqlfiles.SQL_DIR.rglob("*.sql"):
        assert path.read_text().startswith("--"), path


def test_long_lists_are_matched_through_a_subquery():
    """`x IN {ids:Array(String)}` against a filled table took 133-321 s for 100,000 values in this
    chDB; `x IN (SELECT arrayJoin({ids:Array(String)}))` 0.7-1.5 s. Every lookup that
    ingestion feeds with a list of ids or tokens (db.query_rows_in_parts) uses the second form."""
    for name in ("stored_event_ids", "stored_profile_versions", "derived_profiles", "ingest_blocks_seen",
                 "latest_profiles", "quarantine_tokens_seen", "ids_with_stored_hash"):
        sql = "\n".join(line for line in sqlfiles.load(name).splitlines() if not line.lstrip().startswith("--"))
        assert "arrayJoin({" in sql, name
        for match in re.finditer(r"IN \{\w+:Array", sql):
            raise AssertionError(f"{name}: {match.group(0)} (use IN (SELECT arrayJoin(...)))")


def test_variants_combine_and_unknown_ones_are_refused():
    plain = sqlfiles.load("customer_engagement_analysis")
    assert "{location:" not in plain and "FROM customer_events" in plain
    both = sqlfiles.load("customer_engagement_analysis@as_of+located")
    assert "location = {location:String}" in both and "v_location" in both  # located_events, latest_versions_at
    assert set(sqlfiles.placeholders("customer_engagement_analysis@located")) - set(sqlfiles.placeholders(
        "customer_engagement_analysis")) == {"location"}
    with pytest.raises(ValueError, match="unknown variant 'near'"):
        sqlfiles.load("customer_engagement_analysis@as_of+near")
