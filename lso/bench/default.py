"""Where the embedded default benchmark, its trained run and the app live, and which table is the default.

The product ships ``benchmarks_data/`` (the embedded table ``default.parquet``, its datasheet and the run
``default_run/``) and the Streamlit app ``app/`` as package data: in a wheel they are the packages ``lso._data`` and
``lso._app`` (pyproject.toml maps the checkout's folders onto those names, and an editable install maps them the same
way), and they are found through :mod:`importlib.resources`, so nothing here assumes a source checkout.

Checkout-only: ``CHECKOUT`` (the source checkout lso is imported from, None in an installed wheel), the NAS-Bench-201
tables in ``../shared/benchmarks/nb201`` beside it (the fallback default table), and the folder fallback of
``package_folder`` for a checkout whose editable install predates the mapping (or ``PYTHONPATH=.``).

The default table, when the user names none: ``EMBEDDED``, then (in a checkout) the real NAS-Bench-201 CIFAR-10
table ``SHARED_NB201``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from lso.errors import BenchmarkFileError, LsoError


def _find_checkout() -> Path | None:
    """Checkout-only: the root of the source checkout this module is imported from, else None (an installed wheel)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "lso" / "bench" / "default.py").is_file():
        return root
    return None


#: Checkout-only: the source checkout lso is imported from (editable install or ``PYTHONPATH``); None when installed.
CHECKOUT: Path | None = _find_checkout()


def package_folder(package: str, checkout_folder: str) -> Path:
    """The folder of a data package (``lso._data``, ``lso._app``) through importlib.resources.

    Checkout-only fallback: ``CHECKOUT / checkout_folder`` when the package isn't importable (an editable install
    made before pyproject.toml mapped it, or a checkout on ``PYTHONPATH`` without installing). Otherwise, for a broken
    install, the place an installed wheel would have it (which then does not exist, and callers say so)."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        if CHECKOUT is not None:
            return CHECKOUT / checkout_folder
        return Path(__file__).resolve().parents[1] / package.rpartition(".")[2]
    if not isinstance(root, Path):  # e.g. a zipimport: streamlit and the readers need real files
        raise LsoError(f"{package} is not a folder on disk ({root!r}): install lso with pip (an unpacked wheel)")
    return root


#: The embedded benchmark's folder (``benchmarks_data/`` in a checkout, ``lso/_data/`` in an installed wheel).
DATA_DIR: Path = package_folder("lso._data", "benchmarks_data")
#: The embedded default benchmark table.
EMBEDDED: Path = DATA_DIR / "default.parquet"
#: Its datasheet (spread, ties, seed noise, protocol).
DATASHEET: Path = DATA_DIR / "default.datasheet.json"
#: The G-VAE/ICNN run trained on it, which the app offers ready to use.
DEFAULT_RUN: Path = DATA_DIR / "default_run"

#: Checkout-only: the real NAS-Bench-201 CIFAR-10 table beside a source checkout (``../shared/benchmarks/nb201``). In
#: an installed wheel it points inside the package, where it never exists, so it is never picked there.
SHARED_NB201: Path = (CHECKOUT.parent if CHECKOUT is not None else DATA_DIR) / "shared" / "benchmarks" / "nb201" / \
    "nb201_cifar10.csv"


def default_table_path() -> Path:
    """The first default table that exists; ``BenchmarkFileError`` saying what to do when none does."""
    if EMBEDDED.exists():
        return EMBEDDED
    if CHECKOUT is not None:
        if SHARED_NB201.exists():
            return SHARED_NB201
        raise BenchmarkFileError(
            f"no default benchmark: neither {EMBEDDED} nor {SHARED_NB201} exists. Import an official file with "
            "`lso bench import nb201-pth FILE --out benchmarks_data/default.parquet` or pass --bench TABLE"
        )
    raise BenchmarkFileError(
        f"no default benchmark: {EMBEDDED} is missing from this installation (reinstall lso). Or import an official "
        "file with `lso bench import nb201-pth FILE --out TABLE.parquet` and pass --bench TABLE.parquet"
    )
