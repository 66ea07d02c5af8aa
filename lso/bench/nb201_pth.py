"""Reader of the official NAS-Bench-201 ``.pth`` (e.g. ``NAS-Bench-201-v1_1-096897.pth``) through ``nas_201_api``.

The file is a ``torch.save`` of a dict ``{'meta_archs': [15,625 arch strings], 'arch2infos': {index: {'less':
ArchResults state dict (12 epochs), 'full': ... (200 epochs)}}, 'evaluated_indexes': [...]}``. ``NASBench201API``
deep-copies that whole dict and builds every ``ArchResults`` up front (the 28 GB of RAM users complain about); we
check the same keys it checks, then build one ``nas_201_api.ArchResults`` at a time, read it with the package's own
``get_metrics`` / ``get_compute_costs``, and drop the entry, so memory stays near the size of the loaded file.

Security: the file is unpickled with the restricted loader of ``lso.bench.pickles``, and each entry is checked by
``lso.bench.official.check_results_state`` before ``nas_201_api`` sees it (its ``create_from_state_dict`` would
``torch.load`` a string entry as a path, and its ``load_state_dict`` copies keys over methods).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lso.bench.official import OfficialRows, metrics_from_state
from lso.bench.pickles import load_torch_file
from lso.errors import BenchmarkFileError
from lso.jobs import Reporter

NB201_KEYS: tuple[str, ...] = ("meta_archs", "arch2infos", "evaluated_indexes")
_HP_KEY = {200: "full", 12: "less"}  # NASBench201API: hp '200' <- 'full', hp '12' <- 'less'


def check_nb201_dict(data: Any, path: Path) -> None:
    """Raise ``BenchmarkFileError`` unless ``data`` has the top-level shape of a NAS-Bench-201 ``.pth``."""
    if not isinstance(data, dict):
        raise BenchmarkFileError(
            f"{path} is not a NAS-Bench-201 benchmark file: it holds a {type(data).__name__}, not a dict"
        )
    missing = [k for k in NB201_KEYS if k not in data]
    if missing:
        shown = ", ".join(map(str, list(data)[:6])) + (", ..." if len(data) > 6 else "")
        raise BenchmarkFileError(
            f"{path} is not a NAS-Bench-201 benchmark file: missing key(s) {', '.join(missing)} (it has: {shown})"
        )
    archs = data["meta_archs"]
    if not isinstance(archs, (list, tuple)) or not all(isinstance(a, str) for a in archs):
        raise BenchmarkFileError(f"{path}: 'meta_archs' must be a list of arch strings")
    if not isinstance(data["arch2infos"], dict):
        raise BenchmarkFileError(f"{path}: 'arch2infos' must be a dict, got {type(data['arch2infos']).__name__}")


def read_nb201_pth(path: str | Path, *, epochs: int = 200, trust: bool = False,
                   reporter: Reporter | None = None) -> OfficialRows:
    """Read every architecture of a NAS-Bench-201 ``.pth`` at the given training budget (200 or 12 epochs).

    Args:
        path: the ``.pth`` file.
        epochs: 200 (the benchmark's main results, 'full') or 12 (the low-fidelity runs, 'less').
        trust: ``--trust-pickle``: unpickle the file without restriction (it may then run code: only for a file from
            a source you trust) and accept any Python objects inside the results. It lifts nothing else: each entry
            must still be a state dict of the official shape, and a file path found in the data is never loaded
            (``nas_201_api`` would ``torch.load`` it), with or without ``trust``.
        reporter: gets ``(architectures read, architectures in the file, message)`` after each one.
    """
    from nas_201_api import ArchResults

    path = Path(path)
    if epochs not in _HP_KEY:
        raise BenchmarkFileError(f"NAS-Bench-201 has results for 200 or 12 epochs, not {epochs}")
    if not path.is_file():
        raise BenchmarkFileError(f"NAS-Bench-201 file not found: {path}")
    data = load_torch_file(path, trust=trust)
    check_nb201_dict(data, path)
    meta_archs: list[str] = list(data["meta_archs"])
    infos: dict = data["arch2infos"]
    hp = _HP_KEY[epochs]
    archs: dict[int, str] = {}
    metrics: dict[int, dict[str, float]] = {}
    keys = sorted(infos, key=_int_key(path))
    for done, key in enumerate(keys, start=1):
        entry = infos.pop(key)  # free each entry once read: the full file is several GB
        index = int(key)
        if not 0 <= index < len(meta_archs):
            raise BenchmarkFileError(f"{path}: arch2infos has index {index}, outside 'meta_archs' (0..{len(meta_archs) - 1})")
        if not isinstance(entry, dict) or hp not in entry:
            raise BenchmarkFileError(f"{path}: arch2infos[{index}] has no '{hp}' results ({epochs} epochs)")
        arch = meta_archs[index]
        archs[index] = arch
        metrics[index] = metrics_from_state(
            ArchResults, entry[hp], arch, f"{path}: arch2infos[{index}]", index, trust=trust
        )
        if reporter is not None:
            reporter(done, len(keys), "NAS-Bench-201 archs")
    if not archs:
        raise BenchmarkFileError(f"{path} holds no architecture results ('arch2infos' is empty)")
    return OfficialRows(source=f"nas-bench-201:{path.name}", fidelity=f"{epochs} epochs", archs=archs, metrics=metrics)


def _int_key(path: Path):
    def key(value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError) as err:
            raise BenchmarkFileError(f"{path}: arch2infos key {value!r} is not an architecture index") from err

    return key
