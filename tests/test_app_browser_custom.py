"""In a real browser on the demo data: the Segment builder adds conditions, shows the live count
and each condition's count, and saves; the Saved segments page shows it with its charts.
Screenshots go to tests/artifacts/ (git-ignored); look at them."""
from __future__ import annotations

import pytest

from tests.browser import browser_page, chromium_path, settle, workbench
from tests.test_app_browser import shot

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def metrics(page) -> dict[str, str]:
    return dict(zip(page.get_by_test_id("stMetricLabel").all_inner_texts(),
                    page.get_by_test_id("stMetricValue").all_inner_texts()))


def test_builder_on_the_demo_data_then_saved_segments(tmp_path):
    with workbench(tmp_path, customers=2000, events=40_000) as url, browser_page(1400, 2200) as page:
        page.goto(f"{url}/builder")
        settle(page)
        page.get_by_text("Add a condition to see how many customers match.").wait_for()
        button = page.get_by_role("button", name="Add condition").bounding_box()
        choices = page.get_by_role("radiogroup", name="Add to").bounding_box()
        middle = lambda box: box["y"] + box["height"] / 2
        assert abs(middle(button) - middle(choices)) < 12, (button, choices)  # level with the choices, not above them
        choose(page, "Field", "value_segment")
        choose(page, "Value", "High Value")
        page.get_by_role("button", name="Add condition").click()
        settle(page)
        choose(page, "Kind of condition", "days since the last event")
        choose(page, "Event type", "purchase")
        page.get_by_role("button", name="Add condition").click()
        settle(page)
        page.get_by_text("1. value_segment = High Value").wait_for()
        page.get_by_text("2. days since the last purchase >= 90").wait_for()
        assert metrics(page)["Customers in the segment"].replace(",", "").isdigit()
        page.wait_for_selector(".js-plotly-plot")
        settle(page)
        shot(page, "builder_1_two_conditions")

        page.get_by_label("Name", exact=True).fill("high value lapsed 90")
        page.get_by_label("Note for this version (optional)").fill("from the browser")
        page.get_by_role("button", name="Save", exact=True).click()
        settle(page)
        page.get_by_text("as version 1.").wait_for()
        shot(page, "builder_2_saved")

        page.goto(f"{url}/saved?segment=high+value+lapsed+90")
        settle(page)
        page.get_by_text("customers, highest lifetime value first").wait_for()
        page.get_by_role("tab", name="Composition").click()
        settle(page)
        page.wait_for_selector(".js-plotly-plot")
        shot(page, "saved_1_composition")
        page.get_by_role("tab", name="SQL").click()
        settle(page)
        shot(page, "saved_2_sql")
        page.get_by_role("tab", name="Compare two").click()
        settle(page)
        choose(page, "Segment B", "lapsed high value")
        page.get_by_text("only B", exact=True).first.wait_for()
        assert metrics(page)["both"] == metrics(page)["A: high value lapsed 90"]  # the same definition as the example
        settle(page)
        shot(page, "saved_3_compare")
        page.goto(f"{url}/saved?a=lapsed+high+value")  # against every customer
        settle(page)
        page.get_by_role("tab", name="Compare two").click()
        settle(page)
        choose(page, "Composition by", "value x loyalty segment")
        page.get_by_text("only B", exact=True).first.wait_for()
        shot(page, "saved_4_against_everyone")
