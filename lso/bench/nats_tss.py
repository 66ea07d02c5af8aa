"""Reader of the official NATS-Bench topology (``tss``) folder, e.g. ``NATS-tss-v1_0-3ffb9-simple/``, via ``nats_bench``.

The folder is what ``nats_bench.create(path, 'tss', fast_mode=True)`` reads: ``meta.pickle.pbz2`` (a dict with
``meta_archs``, the 15,625 arch strings in official order) and one ``{index:06d}.pickle.pbz2`` per architecture, a dict
``{hp: ArchResults state dict}`` with ``hp`` in ``'12'`` / ``'200'`` (epochs). We read each file with a loader that
refuses anything but plain data (see ``lso.bench.pickles``), build ``nats_bench``'s own ``ArchResults`` from it and
read it with the package's ``get_metrics`` / ``get_compute_costs``. Each entry is checked by
``lso.bench.official.check_results_state`` before ``nats_bench`` sees it: its ``create_from_state_dict`` would unpickle
a string entry as a file path without restriction, and its ``load_state_dict`` copies keys over methods.
"""

from __future__ import annotations

import re
from pathlib import Path

from lso.bench.official import OfficialRows, metrics_from_state
from lso.bench.pickles import load_bz2_pickle
from lso.errors import BenchmarkFileError
from lso.jobs import Reporter

PICKLE_EXT = ".pickle.pbz2"
META_FILE = "meta" + PICKLE_EXT
_ARCH_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")


def arch_files(folder: Path) -> dict[int, Path]:
    """The per-architecture files of a tss folder, by official index."""
    found: dict[int, Path] = {}
    for entry in folder.iterdir():
        match = _ARCH_FILE.match(entry.name)
        if match and entry.is_file():
            found[int(match.group(1))] = entry
    return found


def read_nats_tss(path: str | Path, *, epochs: int = 200, trust: bool = False,
                  reporter: Reporter | None = None) -> OfficialRows:
    """Read every architecture file of a NATS-Bench tss folder at the given training budget (200 or 12 epochs).

    Args:
        path: the folder (holding ``meta.pickle.pbz2`` and ``000000.pickle.pbz2``...).
        epochs: 200 or 12, the ``hp`` key of the per-architecture files.
        trust: ``--trust-pickle``: unpickle the files with plain ``pickle`` (they may then run code: only for files
            from a source you trust) and accept any Python objects inside the results. It lifts nothing else: each
            ``{hp: ...}`` entry must still be a state dict of the official shape, and a file path found in the data
            is never loaded (``nats_bench`` would unpickle it without restriction), with or without ``trust``.
        reporter: gets ``(architecture files read, files in the folder, message)`` after each one.
    """
    from nats_bench.api_utils import ArchResults

    folder = Path(path)
    if not folder.is_dir():
        raise BenchmarkFileError(
            f"{folder} is not a NATS-Bench tss folder: expected a directory holding {META_FILE} and "
            "000000.pickle.pbz2 ... (e.g. NATS-tss-v1_0-3ffb9-simple/)"
        )
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise BenchmarkFileError(f"{folder} is not a NATS-Bench tss folder: it has no {META_FILE}")
    meta = load_bz2_pickle(meta_path, trust=trust)
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise BenchmarkFileError(f"{meta_path} is not NATS-Bench metadata: expected a dict with 'meta_archs'")
    meta_archs = meta["meta_archs"]
    if not isinstance(meta_archs, (list, tuple)) or not all(isinstance(a, str) for a in meta_archs):
        raise BenchmarkFileError(f"{meta_path}: 'meta_archs' must be a list of arch strings")
    files = arch_files(folder)
    if not files:
        raise BenchmarkFileError(f"{folder} is not a NATS-Bench tss folder: no per-architecture files 000000{PICKLE_EXT} ...")
    hp = str(epochs)
    archs: dict[int, str] = {}
    metrics: dict[int, dict[str, float]] = {}
    for done, index in enumerate(sorted(files), start=1):
        file = files[index]
        if index >= len(meta_archs):
            raise BenchmarkFileError(f"{file}: index {index} is outside 'meta_archs' (0..{len(meta_archs) - 1})")
        data = load_bz2_pickle(file, trust=trust)
        if not isinstance(data, dict) or hp not in data:
            keys = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise BenchmarkFileError(f"{file} has no results for {epochs} epochs (it has: {keys})")
        arch = meta_archs[index]
        archs[index] = arch
        metrics[index] = metrics_from_state(ArchResults, data[hp], arch, str(file), index, trust=trust)
        if reporter is not None:
            reporter(done, len(files), "NATS-Bench tss archs")
    return OfficialRows(source=f"nats-bench-tss:{folder.name}", fidelity=f"{epochs} epochs", archs=archs, metrics=metrics)
