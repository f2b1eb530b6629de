"""The Through time page in a real browser on the demo data (`python -m segwork run`): the sizes
chart, the Sankey and the heatmap are drawn without an error, and a customer id of a flow opens
Customer lookup. Screenshots go to tests/artifacts/ (git-ignored)."""
from __future__ import annotations

import pytest

from segwork.config import PROJECT_DIR
from tests.browser import browser_page, chromium_path, settle, workbench

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-browser.sh installs it)")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"


def deep(url: str) -> bool:
    """Streamlit's first look for its server under a deep link's path (/through_time/_stcore/health: 404)."""
    return "/_stcore/" in url.split("/", 3)[3]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("through_time")
    with workbench(data_dir, customers=500, events=5000) as url:
        yield url
    log = (data_dir / "workbench.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_the_charts_and_the_sankey_render_and_an_id_opens_the_lookup(demo_url):
    with browser_page(1400, 5000) as page:
        problems = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not deep(r.url) else None)
        page.goto(f"{demo_url}/through_time")
        settle(page)
        page.get_by_role("link", name="Through time").wait_for()
        page.get_by_text("Customers per segment over time").wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        plots = page.locator(".js-plotly-plot")
        assert plots.count() == 3  # sizes, Sankey, heatmap
        assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 9  # a line per segment
        assert page.locator(".js-plotly-plot .sankey-node").count() >= 2
        assert page.locator(".js-plotly-plot .sankey-link").count() >= 1
        assert page.locator(".js-plotly-plot .heatmaplayer").count() == 1
        page.get_by_text("Who entered and who left a segment").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e_through_time.png"))
        assert not problems, problems

        page.get_by_text("Draw only the customers who moved").click()  # a form: nothing runs until it is sent
        page.get_by_role("button", name="Show transitions").click()
        settle(page)
        assert "moved=1" in page.url and page.locator(".js-plotly-plot .sankey-node").count() >= 2

        grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="lookup?q=").first  # a flow's members
        grid.scroll_into_view_if_needed()
        customer = grid.get_by_test_id("glide-cell-0-0").inner_text().split("q=", 1)[1]  # the grid's accessible table
        box = grid.bounding_box()
        with page.context.expect_page() as opened:  # a link cell opens its page in a new tab
            page.mouse.move(box["x"] + 20, box["y"] + 52)  # the first row's id, under the header
            page.wait_for_timeout(300)
            page.mouse.move(box["x"] + 25, box["y"] + 53)
            page.wait_for_timeout(300)
            page.mouse.click(box["x"] + 25, box["y"] + 53)
        lookup = opened.value
        assert lookup.url == f"{demo_url}/lookup?q={customer}"
        settle(lookup)
        lookup.get_by_text("Profile history").wait_for()
        lookup.get_by_text(f"· {customer}").first.wait_for()
        assert not problems, problems
