"""In a real browser, on `python -m segwork run`'s own database: live mode moves the demo, Remove
all data empties it after a confirmation, and the Online Retail sample loads in one click.
Screenshots go to tests/artifacts/ (git-ignored)."""
from __future__ import annotations

import pytest

from tests.browser import browser_page, chromium_path, settle, workbench
from tests.test_app_browser import shot

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")


def metrics(page) -> dict[str, str]:
    return dict(zip(page.get_by_test_id("stMetricLabel").all_inner_texts(),
                    page.get_by_test_id("stMetricValue").all_inner_texts()))


def test_live_demo_then_remove_all_data_then_the_online_retail_sample(tmp_path):
    with workbench(tmp_path, customers=500, events=5000) as url, browser_page() as page:
        page.goto(url)
        settle(page)
        page.get_by_text("This is generated demo data").wait_for()
        assert metrics(page)["Events"] == "5,000"
        page.get_by_text("Live mode: refresh").click()
        # the fragment re-runs every 5 s and adds the seconds' demo events: wait for them (not a timing check)
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                               ".some((e, i) => i === 1 && e.innerText !== '5,000')", timeout=60_000)
        shot(page, "data_1_live_demo")
        page.get_by_text("Live mode: refresh").click()
        settle(page)

        page.get_by_role("button", name="Remove all data…").click()
        settle(page)
        page.get_by_text("Remove all data?").wait_for()
        assert page.get_by_text("The API tokens, saved column mappings and saved segments stay.").is_visible()
        shot(page, "data_2_confirm")
        page.get_by_role("button", name="Yes, remove all data").click()
        page.get_by_text("The database is empty.").first.wait_for()
        settle(page)
        assert metrics(page)["Customers"] == "0" and metrics(page)["Events"] == "0"

        page.get_by_role("button", name="Load the Online Retail sample").click()
        page.get_by_text("This is the Online Retail sample").wait_for(timeout=180_000)
        settle(page)
        assert (metrics(page)["Customers"], metrics(page)["Events"]) == ("4,372", "406,829")
        shot(page, "data_3_sample")
