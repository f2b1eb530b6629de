"""End to end in a real browser: the real Online Retail file uploaded into an empty workbench
through the mapping step with the built-in mapping; the Overview then shows the facts its
README states (4,372 customers, 406,829 events, 135,080 lines quarantined for want of a customer)."""
from __future__ import annotations

import pytest

from segwork import retail
from segwork.config import PROJECT_DIR
from tests.browser import browser_page, chromium_path, settle, workbench

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"


def test_online_retail_through_the_mapping_ui_gives_the_readme_facts(tmp_path):
    with workbench(tmp_path, demo=False) as url, browser_page() as page:
        page.goto(f"{url}/upload")
        settle(page)
        page.locator('input[type="file"]').set_input_files(str(retail.RETAIL_CSV))
        name = retail.RETAIL_CSV.name
        page.get_by_text(f"Map it onto customer_events").wait_for()
        settle(page)
        page.get_by_text("What customer_events gets").wait_for()
        settle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e_retail_mapping.png"), full_page=True)
        start = page.get_by_test_id("stSelectbox").filter(has_text="Start from")
        assert "online-retail" in start.inner_text() + start.locator("input").first.input_value()  # built-in: it fits
        page.get_by_role("button", name=f"Ingest {name} into customer_events").click()
        page.get_by_text(f"Report: {name} → customer_events").wait_for(timeout=600_000)
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "e2e_retail_report.png"), full_page=True)

        page.get_by_role("link", name="Overview").click()
        settle(page)
        page.get_by_text("Quarantined event rows").wait_for()
        metrics = dict(zip(page.get_by_test_id("stMetricLabel").all_inner_texts(),
                           page.get_by_test_id("stMetricValue").all_inner_texts()))
        assert metrics["Customers"] == "4,372"
        assert metrics["Events"] == "406,829"
        assert metrics["Quarantined event rows"] == "135,080"
        page.screenshot(path=str(ARTIFACTS / "e2e_retail_overview.png"), full_page=True)
