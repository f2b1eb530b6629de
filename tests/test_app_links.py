"""Links into the workbench: a link parameter the page cannot use is ignored with a note that
says why, and the URL always shows the view actually shown."""
from __future__ import annotations

import pytest

import segwork

from tests.test_app import app_db, fresh_caches, frame, open_page, shop, shop_template  # noqa: F401 (fixtures)


def notes(at) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.parametrize("raw,why", [("-5", "-5 is below the minimum 1"), ("0", "0 is below the minimum 1"),
                                     ("20000", "20000 is above the maximum 10000"), ("ten", "not a whole number")])
def test_a_bad_limit_in_a_link_is_ignored_with_a_note(shop, raw, why):
    at = open_page("engagement", limit=raw)
    assert f"ignored the link's limit={raw!r}: {why}" in notes(at)
    assert at.number_input(key="en_limit").value == 100 and "limit" not in at.query_params
    expected = segwork.customer_engagement_analysis(shop, at.query_params["start"], at.query_params["end"], limit=100)
    assert list(frame(at, "en_table")["customer_id"]) == ["lookup?q=" + c for c in expected["customer_id"]]


def test_an_unknown_location_is_named_as_such_with_the_known_ones(shop):
    at = open_page("segments", location="Atlantis")
    known = ", ".join(sorted(segwork.locations_present(shop)["location"]))
    [note] = [n for n in notes(at) if "location" in n]
    assert note.startswith("ignored the link's location='Atlantis': unknown location (known: ")
    assert "not a valid" not in note and all(place in note for place in known.split(", ")[:3])
    assert at.selectbox(key="sg_location").value == "" and "location" not in at.query_params


def test_an_unknown_event_type_is_named_as_such(shop):
    at = open_page("engagement", event_type="teleport")
    assert any(n.startswith("ignored the link's event_type=['teleport']: unknown event_type 'teleport' (known: ")
               and "purchase" in n for n in notes(at)), notes(at)


@pytest.mark.parametrize("raw,why", [("0", "0 is below the minimum 1"), ("-3", "-3 is below the minimum 1")])
def test_a_bad_page_in_a_link_is_ignored_with_a_note(shop, raw, why):
    at = open_page("segments", segment="Low Value · Loyal", page=raw)
    assert f"ignored the link's page={raw!r}: {why}" in notes(at)
    assert at.number_input(key="sg_page").value == 1 and "page" not in at.query_params


def test_a_page_past_the_end_shows_the_last_page_and_says_so_in_the_url(shop):
    at = open_page("segments", segment="High Value · Loyal", page="999")
    last = -(-len(segwork.segment_customers(shop, "High Value", "Loyal", limit=1000)) // 50)
    assert at.number_input(key="sg_page").value == last
    assert at.query_params["page"] == str(last) if last > 1 else "page" not in at.query_params
    at.run()  # and it stays so
    assert at.number_input(key="sg_page").value == last and at.query_params.get("page", "1") == str(last)


@pytest.mark.parametrize("raw,why", [("30-200", "200 is above the maximum 120"), ("50-30", "not a valid range")])
def test_a_bad_age_range_in_a_link_is_ignored_with_a_note(shop, raw, why):
    at = open_page("segments", age=raw)
    assert any(n.startswith(f"ignored the link's age={raw!r}: ") and why in n for n in notes(at)), notes(at)
    assert at.slider(key="sg_age").value == [0, 120] or tuple(at.slider(key="sg_age").value) == (0, 120)
