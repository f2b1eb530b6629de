"""Start the workbench as `make run` does and drive it in Debian's chromium (Playwright).

Used by tests/test_app_browser.py, and by hand to refresh the README's screenshot:
    .venv/bin/python -m tests.browser docs/workbench.png
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from segwork.config import PROJECT_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def workbench(data_dir: Path, *, customers: int = 500, events: int = 5000, log: Path | None = None,
              demo: bool = True, args: tuple[str, ...] = ()) -> Iterator[str]:
    """`python -m segwork run [args]` on its own embedded database in data_dir (`--no-demo` unless
    demo); yields the URL it printed."""
    port = free_port()
    env = {**os.environ, "SEGWORK_DATA_DIR": str(data_dir), "SEGWORK_WORKBENCH_PORT": str(port),
           "SEGWORK_DEMO_CUSTOMERS": str(customers), "SEGWORK_DEMO_EVENTS": str(events)}
    env.pop("SEGWORK_DSN", None)
    env.pop("SEGWORK_DATABASE", None)
    out = open(log or data_dir / "workbench.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "segwork", "run", *([] if demo else ["--no-demo"]), *args],
                            cwd=PROJECT_DIR, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = _wait_ready(proc, out, port)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.close()


def _wait_ready(proc: subprocess.Popen, out, port: int, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out.seek(0)
            raise RuntimeError(f"the workbench exited with {proc.returncode}:\n{out.read()[-3000:]}")
        out.seek(0)
        for line in out.read().splitlines():
            if line.startswith("segwork workbench: "):
                url = line.split()[2]
        if url:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return url
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the workbench did not answer on port {port} within {timeout:.0f} s")


@contextmanager
def browser_page(width: int = 1400, height: int = 1800):
    """A chromium page (tall viewport: Streamlit scrolls an inner container)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished running the script (as Streamlit's own e2e tests do)."""
    page.wait_for_timeout(300)  # a click reaches the server and starts a run
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)
    page.wait_for_timeout(200)


def screenshot_overview(target: Path) -> None:
    """The README image: the Overview on the default demo data."""
    with tempfile.TemporaryDirectory(prefix="segwork-") as tmp:
        with workbench(Path(tmp), customers=20_000, events=400_000) as url, browser_page(1280, 1000) as page:
            page.goto(url)
            settle(page)
            page.wait_for_selector(".js-plotly-plot")
            settle(page)
            page.screenshot(path=str(target), type="png")
    from PIL import Image  # a palette image is a third of the size, and looks the same

    Image.open(target).convert("RGB").quantize(colors=128).save(target, optimize=True)


if __name__ == "__main__":
    screenshot_overview(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/workbench.png"))
