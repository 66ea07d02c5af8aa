"""Compare two behaviour fingerprints (``benchmarks/fingerprint.sh``): every file must match, except timings, plotly
uuids and the folders' own paths. Prints the files that differ and ends with ``files N differ K``; exit 1 when K > 0.

    .venv/bin/python benchmarks/fingerprint_diff.py /tmp/fp_before /tmp/fp_after
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

# Keys and columns that hold wall-clock figures or versions: they differ between two runs of the same code.
VOLATILE = re.compile(r"time|second|overhead|wall|elapsed|created|started|finished|duration|date|version|host|"
                      r"python|torch", re.I)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LOG_TIMES = re.compile(r"\d+(\.\d+)?\s*(s|ms|seconds|it/s|s/it)\b|\[\d\d:\d\d.*?\]")


def _stable(value: Any) -> Any:
    """``value`` without the volatile keys of its dicts, recursively."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not VOLATILE.search(str(k))}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _csv_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return rows
    keep = [i for i, name in enumerate(rows[0]) if not VOLATILE.search(name)]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


def same_file(a: Path, b: Path, root_a: Path, root_b: Path) -> bool:
    """True when ``a`` and ``b`` hold the same behaviour (by file kind)."""
    text_a = lambda: a.read_text(errors="replace").replace(str(root_a), "ROOT")  # noqa: E731
    text_b = lambda: b.read_text(errors="replace").replace(str(root_b), "ROOT")  # noqa: E731
    if a.suffix == ".json":
        return _stable(json.loads(text_a())) == _stable(json.loads(text_b()))
    if a.suffix == ".csv":
        return _csv_rows(text_a()) == _csv_rows(text_b())
    if a.suffix == ".html":
        return UUID.sub("U", text_a()) == UUID.sub("U", text_b())
    if a.suffix == ".log":
        return LOG_TIMES.sub("T", text_a()) == LOG_TIMES.sub("T", text_b())
    if a.suffix == ".safetensors":
        from safetensors.torch import load_file

        x, y = load_file(a), load_file(b)
        return x.keys() == y.keys() and all(bool((x[k] == y[k]).all()) for k in x)
    if a.suffix == ".pt":
        import torch

        x, y = torch.load(a, weights_only=False), torch.load(b, weights_only=False)
        return repr(_stable(x)) == repr(_stable(y))
    return a.read_bytes() == b.read_bytes()


def main(root_a: Path, root_b: Path) -> int:
    names = sorted({p.relative_to(root_a) for p in root_a.rglob("*") if p.is_file()}
                   | {p.relative_to(root_b) for p in root_b.rglob("*") if p.is_file()})
    bad = 0
    for rel in names:
        a, b = root_a / rel, root_b / rel
        if not (a.exists() and b.exists()):
            print(f"MISSING {rel} (in first: {a.exists()}, in second: {b.exists()})")
            bad += 1
        elif not same_file(a, b, root_a, root_b):
            print(f"DIFF {rel}")
            bad += 1
    print(f"files {len(names)} differ {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
