"""Render time of every workbench page on the default data (the embedded table and the shipped run).

Each page runs in Streamlit's AppTest (in-process, no browser) in a fresh, empty workspace, after the libraries
are imported (as in a running server; the cold start is what tests/app/test_browser.py measures): "first" is the
page's first render in a new session (it loads, encodes and caches what it needs), "rerun" a rerun of the same
page (what a user waits for after moving a widget). The issue's target is the slowest page under 2 s.

    .venv/bin/python benchmarks/bench_app.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ("benchmark", "train", "latent", "search", "refine")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="reruns per page (the median is reported)")
    args = parser.parse_args()
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
