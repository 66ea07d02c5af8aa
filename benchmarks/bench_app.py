"""Render time of every workbench page on the default data (the embedded table and the shipped run).

Each page runs in Streamlit's AppTest (in-process, no browser) in a fresh, empty workspace, after the libraries
are imported (as in a running server; the cold start is what tests/app/test_browser.py measures): "first" is the
page's first render in a new session (it loads, encodes and caches what it needs), "rerun" a rerun of the same
page (what a user waits for after moving a widget). The issue's target is the slowest page under 2 s.

``--interactive N`` also measures, N times, the time from starting ``make run`` (installed: its stamp is fresh) in
an empty workspace on a free port until the first page shows its content in Debian's chromium (Playwright), the
target being under 10 s; the median and the range are printed.

    .venv/bin/python benchmarks/bench_app.py [--repeat 3] [--interactive 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ("benchmark", "train", "latent", "search", "refine")


def time_to_interactive() -> float:
    """Seconds from ``make run`` to the Benchmark page's content in chromium (one fresh server and workspace)."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workspace = tempfile.mkdtemp(prefix="lso_bench_tti_")
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        start = time.monotonic()
        proc = subprocess.Popen(["make", "--no-print-directory", "run",
                                 f"APP_ARGS=--port {port} --workspace {workspace}"], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while True:  # the server answers its health check, then the browser asks for the page
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() - start > 120:
                        raise SystemExit("`make run` did not serve within 120 s")
                    time.sleep(0.05)
            page.goto(url)
            expect(page.get_by_test_id("stMainBlockContainer")).to_contain_text("Top 10 cells", timeout=120_000)
            return time.monotonic() - start
        finally:
            browser.close()
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="reruns per page (the median is reported)")
    parser.add_argument("--interactive", type=int, default=0, help="times to measure `make run` to interactive")
    args = parser.parse_args()
    if args.interactive:
        times = sorted(time_to_interactive() for _ in range(args.interactive))
        print(f"make run -> first page interactive: median {times[len(times) // 2]:.2f} s "
              f"(range {times[0]:.2f}-{times[-1]:.2f} s, {len(times)} starts; target < 10 s)", flush=True)
    from streamlit.testing.v1 import AppTest

    os.environ["LSO_WORKSPACE"] = tempfile.mkdtemp(prefix="lso_bench_app_")
    start = time.perf_counter()
    import plotly.graph_objects  # noqa: F401  (what a server has imported before the first page)
    import torch  # noqa: F401

    import lso.models.workbench  # noqa: F401
    import lso.search  # noqa: F401
    print(f"imports (done once per server) {time.perf_counter() - start:.2f} s")
    rows = []
    for page in PAGES:
        at = AppTest.from_file(str(REPO / "app" / "main.py"), default_timeout=600)
        start = time.perf_counter()
        at.switch_page(f"views/{page}.py").run()
        first = time.perf_counter() - start
        if at.exception:
            raise SystemExit(f"page {page} raised: {at.exception[0].message}")
        again = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            at.run()
            again.append(time.perf_counter() - start)
        again.sort()
        rows.append((page, first, again[len(again) // 2]))
        print(f"{page:<10} first render {first:6.2f} s   rerun (median of {args.repeat}) {again[len(again) // 2]:6.2f} s",
              flush=True)
    slowest = max(rows, key=lambda r: r[1])
    print(f"slowest first render: {slowest[0]} {slowest[1]:.2f} s; slowest rerun: "
          f"{max(r[2] for r in rows):.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
