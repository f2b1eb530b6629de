"""The workbench in a real browser on an empty database (`run --no-demo`): it asks nothing of
the internet (its favicon is shipped), and empty values read as plain text."""
from __future__ import annotations

import pytest

from tests.browser import browser_page, chromium_path, settle, workbench

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")
PAGES = ("", "upload", "lookup?q=nobody", "engagement", "segments", "through_time", "rfm", "cohorts", "rules")


@pytest.fixture(scope="module")
def empty_url(tmp_path_factory):
    with workbench(tmp_path_factory.mktemp("empty"), demo=False) as url:
        yield url


def test_no_request_leaves_loopback_and_the_favicon_is_shipped(empty_url):
    with browser_page() as page:
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        for path in PAGES:
            page.goto(f"{empty_url}/{path}")
            settle(page)
        page.wait_for_timeout(1000)  # the favicon is asked for after the page's first run
        assert requests and all(r.startswith((empty_url, "data:", "blob:")) for r in requests), \
            sorted({r for r in requests if not r.startswith(empty_url)})
        icon = page.locator('link[rel="icon"], link[rel="shortcut icon"]').first.get_attribute("href")
        assert "/media/" in icon, icon  # served by this workbench from segwork/workbench/favicon.png
        assert page.request.get(icon if icon.startswith("http") else f"{empty_url}{icon}").body().startswith(b"\x89PNG")


def test_empty_overview_shows_a_plain_dash_not_a_heading(empty_url):
    with browser_page() as page:
        page.goto(empty_url)
        settle(page)
        page.get_by_text("No customers yet").wait_for()
        assert page.get_by_role("heading", name="Latest event").count() == 0
        assert page.get_by_role("heading", name="Latest ingest").count() == 0
        assert page.locator("hr").count() == 0  # none here; the sidebar's below the navigation drew a second line under its own
        assert page.locator('[data-testid="stSidebarNavSeparator"]').count() == 1
        block = page.locator('[data-testid="stMarkdownContainer"]', has_text="Latest event")
        assert block.inner_text().split("\n") == ["Latest event", "-"]
