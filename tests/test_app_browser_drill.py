"""Drill-through in a real browser on the demo data: a click on a bar lists that group's customers
(Segments, RFM), a click on a customer id or a top customer's bar opens the Customer lookup, the Segment rules preview
comes before Apply, and the Cohorts heatmap draws."""
from __future__ import annotations

import re

import pytest

from tests.browser import browser_page, chromium_path, settle, workbench

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")


def click_center(locator) -> None:
    """Click the middle of an element (plotly's drag layer lies over the bars)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    locator.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def click_first_id(page) -> None:
    """Click the first customer id of the last table on the page (a canvas: by position)."""
    grid = page.get_by_test_id("stDataFrame").last
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    x, y = box["x"] + 25, box["y"] + 35 + 17
    page.mouse.move(x, y)  # the grid finds the link under the pointer on hover
    page.wait_for_timeout(300)
    page.mouse.click(x, y)


def test_clicks_drill_from_bars_to_customers_to_the_lookup(tmp_path):
    with workbench(tmp_path, customers=3000, events=60_000) as url, browser_page() as page:
        page.goto(f"{url}/segments")
        settle(page)
        page.wait_for_selector(".js-plotly-plot")
        click_center(page.locator(".js-plotly-plot").first.locator("g.point path").first)
        settle(page)
        segment = re.search(r"segment=([^&]+)", page.url)
        assert segment, page.url
        page.get_by_text(re.compile(r"[\d,]+ customers?, highest lifetime value first")).wait_for()
        page.screenshot(path=str(tmp_path / "segments_clicked.png"), full_page=True)
        with page.expect_popup() as opened:
            click_first_id(page)
        lookup = opened.value
        lookup.wait_for_load_state()
        assert "/lookup?q=c" in lookup.url
        settle(lookup)
        customer = lookup.url.split("q=")[1]
        lookup.get_by_text(customer).first.wait_for()
        lookup.screenshot(path=str(tmp_path / "lookup_from_link.png"), full_page=True)
        lookup.close()

        page.goto(f"{url}/engagement")  # a click on a top customer's bar opens the lookup in place
        settle(page)
        page.wait_for_selector(".js-plotly-plot")
        click_center(page.locator(".js-plotly-plot").first.locator("g.point path").first)
        settle(page)
        assert re.search(r"/lookup\?q=c\d+", page.url), page.url
        page.get_by_text("Days since signup", exact=True).wait_for()

        page.goto(f"{url}/rfm")
        settle(page)
        page.wait_for_selector(".js-plotly-plot")
        click_center(page.locator(".js-plotly-plot g.point path").first)
        settle(page)
        assert "group=Champions" in page.url
        page.get_by_text(re.compile(r"Champions: [\d,]+ customers?, best scores first")).wait_for()
        page.screenshot(path=str(tmp_path / "rfm_clicked.png"), full_page=True)

        page.goto(f"{url}/cohorts")
        settle(page)
        page.get_by_text("Share of each signup cohort active N months later").wait_for()
        page.screenshot(path=str(tmp_path / "cohorts.png"), full_page=True)

        page.goto(f"{url}/rules")
        settle(page)
        page.get_by_label("High Value: lifetime value from").fill("700")
        page.get_by_role("button", name="Preview the change").click()
        settle(page)
        page.get_by_text("Customers moving from each segment to each under the new rules").wait_for()
        assert "rules=" not in page.url  # previewed, not applied
        page.screenshot(path=str(tmp_path / "rules_preview.png"), full_page=True)
        page.get_by_role("button", name="Apply for this session").click()
        settle(page)
        assert "rules=700%2C500%2C365%2C180" in page.url
        page.get_by_text("New rules in force on every page.").wait_for()
