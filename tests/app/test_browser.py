"""One real-browser test: `make run`'s server driven in Debian's chromium through Playwright.

It starts the server exactly as a user does (``make run``, with a free port and a temporary workspace), measures
how long until the first page is interactive, clicks through every page, checks that none shows an exception,
and saves a screenshot of each to ``out/screenshots/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "out" / "screenshots"
PAGES = ("Benchmark", "Train", "Latent space", "Search", "Refine", "Other spaces")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _need_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian package chromium; `make test` installs it when run as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (a dev dependency)")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must run the browser test, missing: " + "; ".join(missing))
        pytest.skip("browser test needs " + "; ".join(missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"`make run` exited with {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the app did not answer at {url} within {timeout:.0f} s")


@pytest.fixture()
def server(tmp_path: Path):
    """`make run` on a free port with an empty temporary workspace, so the app opens as on a fresh machine (the
    embedded default table and the shipped run); yields (url, start)."""
    _need_browser()
    workspace = tmp_path / "workspace"
    port = _free_port()
    start = time.monotonic()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"APP_ARGS=--port {port} --workspace {workspace}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, timeout=120)
        yield url, start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _launch(pw):
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
              "--no-first-run", "--disable-component-update", "--disable-sync"],
    )


def test_click_through_every_page(server) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, start = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            outside: list[str] = []  # the workbench works offline: nothing may be fetched from another host
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((url, "data:", "blob:")) else None)
            page.goto(url)
            nav = page.get_by_test_id("stSidebarNav")
            expect(nav).to_be_visible(timeout=60_000)
            expect(page.get_by_test_id("stMainBlockContainer")).to_contain_text("Benchmark", timeout=60_000)
            interactive_s = time.monotonic() - start
            print(f"first page interactive {interactive_s:.1f} s after `make run` started")
            for title in PAGES:
                page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first.click()
                main = page.get_by_test_id("stMainBlockContainer")
                expect(main).to_contain_text(title.split()[0], timeout=60_000)
                # Let the page's script finish (Streamlit's status widget shows while it runs).
                page.wait_for_timeout(500)
                expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
                assert page.get_by_test_id("stException").count() == 0, f"{title} page shows an exception"
                charts = page.get_by_test_id("stPlotlyChart")
                for i in range(charts.count()):  # plotly draws after the script ends
                    expect(charts.nth(i).locator(".main-svg").first).to_be_attached(timeout=30_000)
                page.wait_for_timeout(1000)  # data frames paint their canvas a moment later
                if title == "Benchmark":  # one widget driven for real: top k 10 -> 11 re-renders the table
                    expect(main).to_contain_text("Top 10 cells")
                    page.get_by_test_id("stNumberInputStepUp").first.click()
                    expect(main).to_contain_text("Top 11 cells", timeout=30_000)
                name = title.lower().replace(" ", "_")
                page.screenshot(path=str(SHOTS / f"{name}.png"))  # tall viewport: Streamlit scrolls inside
            assert not outside, f"the app fetched from outside this machine: {outside[:5]}"
            assert page.get_by_role("button", name="Deploy").count() == 0
            _click_a_cell_on_the_map_and_refine_it(page)
        finally:
            browser.close()
    for title in PAGES:
        assert (SHOTS / f"{title.lower().replace(' ', '_')}.png").stat().st_size > 10_000


_POINT = """() => {
    // Page pixel of the first drawn cell of the latent map (the first plotly chart): axis offset + data-to-pixel.
    const gd = document.querySelectorAll('.js-plotly-plot')[0];
    const trace = gd._fullData.find(t => t.customdata && t.customdata.length && t.visible !== false);
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
    return [box.left + xa._offset + xa.l2p(trace.x[0]), box.top + ya._offset + ya.l2p(trace.y[0])];
}"""


def _click_a_cell_on_the_map_and_refine_it(page) -> None:
    """Latent page: a click on a map point opens its cell panel; "Refine this cell" opens Refine on that cell."""
    from playwright.sync_api import expect

    page.get_by_test_id("stSidebarNavLink").filter(has_text="Latent space").first.click()
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main).to_contain_text("click a cell", timeout=60_000)
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator(".main-svg").first).to_be_attached(timeout=30_000)
    page.wait_for_timeout(1000)
    x, y = page.evaluate(_POINT)
    page.mouse.click(x, y)
    refine = page.get_by_role("button", name="Refine this cell")
    expect(refine).to_be_visible(timeout=30_000)
    panel = main.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"^Cell \d+ \|"))
    arch = panel.first.inner_text()  # "Cell 1234 |op~0|+..."
    page.screenshot(path=str(SHOTS / "latent_space_clicked.png"))
    refine.click()
    # "Refine" is on the latent page too (the button): wait for the Refine page itself and for its text box to hold
    # the clicked cell, since on a loaded machine the box is drawn a moment before its value arrives.
    page.wait_for_url(re.compile(r"/refine$"), timeout=60_000)
    clicked = arch.split()[-1]  # the arch string after "Cell 1234"
    box = page.get_by_label("Cell to refine", exact=False).first
    expect(box, f"Refine did not open on the map's cell {clicked}").to_have_value(clicked, timeout=60_000)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    assert box.input_value() == clicked


def test_a_reload_and_a_second_tab_find_the_running_job(server) -> None:
    """Jobs belong to the workspace, not to a browser tab: after a reload, and in a second tab, the running training
    shows its progress and Stop; Stop from the second tab ends it in both."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = server
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"{url}/train")
            page.get_by_role("button", name="Start training").click(timeout=60_000)
            stop = page.get_by_role("button", name="Stop")
            expect(stop).to_be_visible(timeout=60_000)
            page.reload()
            expect(page.get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
            expect(page.get_by_role("button", name="Start training")).to_be_disabled()
            other = browser.new_page(viewport={"width": 1400, "height": 1600})
            other.goto(f"{url}/train")
            expect(other.get_by_role("button", name="Stop")).to_be_visible(timeout=60_000)
            other.get_by_role("button", name="Stop").click()
            for tab in (other, page):
                expect(tab.get_by_test_id("stMainBlockContainer")).to_contain_text(": stopped", timeout=120_000)
            assert page.get_by_test_id("stException").count() == 0
        finally:
            browser.close()
