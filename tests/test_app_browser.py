"""End to end in a real browser: `python -m segwork run` (what `make run` starts) on its own
embedded database, driven by Debian's chromium through Playwright. Screenshots go to
tests/artifacts/ (git-ignored)."""
from __future__ import annotations

import re
import urllib.error
import urllib.request

import pandas as pd
import pytest

from segwork.config import PROJECT_DIR
from tests.browser import browser_page, chromium_path, settle, workbench

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
CUSTOMERS_CSV = (
    "customer_id,name,email,age,gender,location,signup_date,lifetime_value,timestamp\n"
    "u0001,Uma Upload,uma@example.com,34,female,Oslo,2024-02-01,1250.00,2026-11-01 10:00:00\n"
    "u0002,Ulf Upload,ulf@example.com,51,male,Oslo,2025-09-15,640.50,2026-11-01 10:00:00\n"
    "u0003,Una Upload,not-an-email,29,female,Oslo,2026-10-01,80.00,2026-11-01 10:00:00\n"
    "u0004,Udo Upload,udo@example.com,230,male,Oslo,2023-05-05,300.00,2026-11-01 10:00:00\n"
    "u0005,Ute Upload,ute@example.com,45,female,Oslo,2022-01-01,2100.00,2026-11-01 10:00:00\n"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("workbench")
    with workbench(data_dir, customers=500, events=5000) as url:
        yield url
    log = (data_dir / "workbench.log").read_text()
    assert "segwork workbench stopped" in log and "Traceback" not in log, log[-3000:]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e_{name}.png"))


def test_first_start_upload_with_bad_rows_then_segments(app_url, tmp_path):
    with browser_page() as page:
        page.goto(f"{app_url}/rules")  # a deep link first: app.py's navigation and sidebar all the same
        settle(page)
        page.get_by_text("Segment rules in force:").wait_for()
        assert page.get_by_role("link", name="Customer lookup").is_visible()

        page.get_by_role("link", name="Overview").click()
        settle(page)
        page.get_by_text("This is generated demo data").wait_for()
        assert page.get_by_test_id("stMetricValue").first.inner_text() == "500"
        page.locator(".js-plotly-plot").first.wait_for()  # the value x loyalty heatmap
        page.get_by_text("Recent ingests").wait_for()
        shot(page, "1_overview")

        page.get_by_role("link", name="Upload").click()
        settle(page)
        page.get_by_text("Uploading the same file again does not duplicate data").wait_for()
        page.get_by_text("customers", exact=True).click()  # the table radio
        csv = tmp_path / "new_customers.csv"
        csv.write_text(CUSTOMERS_CSV)
        page.locator('input[type="file"]').set_input_files(str(csv))
        page.get_by_role("button", name="Ingest new_customers.csv into customers").wait_for()
        settle(page)
        page.get_by_role("button", name="Ingest new_customers.csv into customers").click()
        page.get_by_text("Report: new_customers.csv → customers").wait_for()
        settle(page)
        metrics = dict(zip(page.get_by_test_id("stMetricLabel").all_inner_texts(),
                           page.get_by_test_id("stMetricValue").all_inner_texts()))
        assert (metrics["Rows read"], metrics["Inserted"], metrics["Quarantined"]) == ("5", "3", "2")
        page.get_by_text("Quarantined rows").first.wait_for()
        # st.dataframe draws on a canvas; its cells are in a hidden accessibility table
        page.get_by_text("email: is not a well-formed email address").first.wait_for(state="attached")
        page.get_by_text("age: must be a whole number from 1 to 120").first.wait_for(state="attached")
        shot(page, "2_upload_report")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download all 2 quarantined rows (CSV)").click()
        quarantined = pd.read_csv(download.value.path())
        assert list(quarantined["customer_id"]) == ["u0003", "u0004"] and list(quarantined["row"]) == [4, 5]

        page.get_by_role("link", name="Segments", exact=True).click()
        settle(page)
        page.locator(".js-plotly-plot").first.wait_for()
        assert page.locator(".js-plotly-plot").count() == 2
        page.get_by_text("Customers per segment").first.wait_for()
        shot(page, "3_segments")

        page.goto(f"{app_url}/segments?location=Oslo&segment=High+Value+%C2%B7+Loyal")  # a link reproduces the view
        settle(page)
        page.get_by_text("Showing: location Oslo; any age; default segment rules.").wait_for()
        page.get_by_text("High Value · Loyal: 2 customers").wait_for()  # u0001 and u0005
        page.locator(".js-plotly-plot").first.wait_for()
        shot(page, "4_segments_oslo")

        page.goto(f"{app_url}/segments?segment=Low+Value+%C2%B7+Loyal")
        settle(page)
        button = page.get_by_role("button", name=re.compile(r"Download all [\d,]+ customers of this segment"))
        total = int(re.search(r"all ([\d,]+) customers", button.inner_text()).group(1).replace(",", ""))
        assert total > 50  # more than the one page shown
        with page.expect_download() as download:
            button.click()
        segment = pd.read_csv(download.value.path())
        assert len(segment) == total and set(segment["value_segment"]) == {"Low Value"}


def test_the_api_routes_share_the_process(app_url):
    try:
        urllib.request.urlopen(f"{app_url}/v0/pipes", timeout=10)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status != 404  # the Events/Pipes API answers from the workbench's process (401/403 without a token)
