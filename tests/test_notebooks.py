"""The notebooks in notebooks/ run top to bottom in a kernel of this interpreter and show their figures.

Each notebook is executed with nbclient from a working directory outside the checkout, with ``LSO_NOTEBOOK_OUT``
pointing at a temporary folder (one per module: notebook 2 reuses the run notebook 1 trains, as it does for a user).
The kernel is a ``python3`` kernelspec written for this test into a temporary ``JUPYTER_PATH`` that runs
``sys.executable``, so a user-level ``python3`` kernelspec pointing at another Python cannot shadow the venv.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ("01_train_surrogate.ipynb", "02_search_latent_space.ipynb", "03_refine_a_cell.ipynb",
         "04_other_spaces.ipynb")
PLOTLY = "application/vnd.plotly.v1+json"
CELL_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def notebook_env(tmp_path_factory):
    """Temporary JUPYTER_PATH with a python3 kernelspec running this interpreter, an output folder and a cwd."""
    root = tmp_path_factory.mktemp("notebooks")
    spec = root / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (lso tests)", "language": "python"}))
    (root / "cwd").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root / "jupyter"))
        mp.setenv("LSO_NOTEBOOK_OUT", str(root / "out"))
        yield root


@pytest.fixture(scope="module")
def default_table() -> Path:
    """The default benchmark table the notebooks load; skipped (failed in CI) when there is none."""
    from lso.bench.default import default_table_path
    from lso.errors import BenchmarkFileError

    try:
        return default_table_path()
    except BenchmarkFileError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have a default benchmark table: {err}")
        pytest.skip(str(err))


def _execute(name: str, env: Path):
    """Run notebook ``name`` with a first cell that prints the kernel's ``sys.prefix``; return (book, seconds)."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    book.cells.insert(0, nbformat.v4.new_code_cell("import sys\nprint('KERNEL_PREFIX=' + sys.prefix)"))
    client = nbclient.NotebookClient(book, timeout=CELL_TIMEOUT_S, startup_timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(env / "cwd")}})
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before, "a notebook wrote next to itself"
    assert not list((env / "cwd").iterdir()), "a notebook wrote into its working directory"
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert f"KERNEL_PREFIX={sys.prefix}" in _stdout(book), "the kernel is not this test's Python"
    return book, seconds


def _stdout(book) -> str:
    return "".join(o.text for c in book.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def _figure_titles(book) -> list[str]:
    """Titles of the plotly figures the notebook displayed (``""`` for a figure without a title)."""
    titles = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            fig = out.get("data", {}).get(PLOTLY) if out.output_type in ("display_data", "execute_result") else None
            if fig is not None:
                assert fig["data"], "an empty figure was displayed"
                titles.append(fig["layout"].get("title", {}).get("text", ""))
    return titles


def _markdown_outputs(book) -> str:
    return "".join(o.data.get("text/markdown", "") for c in book.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type in ("display_data", "execute_result"))


def test_notebooks_are_committed_without_outputs():
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(book)
        code = [c for c in book.cells if c.cell_type == "code"]
        assert code and all(c.outputs == [] and c.execution_count is None for c in code), name
        assert book.metadata["kernelspec"]["name"] == "python3"
        assert any(c.cell_type == "markdown" for c in book.cells[:1]), f"{name} should open with a markdown cell"


@pytest.mark.slow
@pytest.mark.realdata
def test_train_surrogate_notebook(notebook_env, default_table):
    book, seconds = _execute("01_train_surrogate.ipynb", notebook_env)
    titles = _figure_titles(book)
    assert len(titles) == 5, titles
    for start in ("Quality of the trained run", "Training of surrogate_", "Surrogate vs table", "Latent means, PCA"):
        assert any(t.startswith(start) for t in titles), (start, titles)
    text = _stdout(book)
    assert "trained 8 epochs" in text and "Spearman" in text
    runs = list((notebook_env / "out").glob("surrogate_*_s0"))
    assert len(runs) == 1 and (runs[0] / "metrics.json").exists() and (runs[0] / "history.csv").exists()
    print(f"01_train_surrogate.ipynb: {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.realdata
def test_search_notebook(notebook_env, default_table):
    book, seconds = _execute("02_search_latent_space.ipynb", notebook_env)
    titles = _figure_titles(book)
    assert any(t.startswith("Best-so-far") for t in titles), titles
    assert any(t.startswith("CR-LSO seed 0") for t in titles), titles
    table_md = _markdown_outputs(book)
    for method in ("crlso", "rea", "random"):
        assert f"| {method} |" in table_md, table_md
    text = _stdout(book)
    assert "9 runs in" in text and "CR-LSO (seed 0) best cell: |" in text and "(rank " in text
    print(f"02_search_latent_space.ipynb: {seconds:.1f} s")


@pytest.mark.slow
def test_refine_notebook(notebook_env):
    book, seconds = _execute("03_refine_a_cell.ipynb", notebook_env)
    titles = _figure_titles(book)
    assert len(titles) == 1 and titles[0].startswith("Test accuracy vs parameters on digits<br><sup>|"), titles
    text = _stdout(book)
    assert "device: cpu" in text or "device: cuda" in text
    assert "8 refine runs in" in text
    final = (notebook_env / "out" / "refine_digits" / "final.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in final[1:]] == ["s3d", "s2d", "random", "scratch"]
    print(f"03_refine_a_cell.ipynb: {seconds:.1f} s")


@pytest.mark.slow
def test_other_spaces_notebook(notebook_env):
    book, seconds = _execute("04_other_spaces.ipynb", notebook_env)
    titles = _figure_titles(book)
    assert titles[0] == "digits_valid of 60 sampled NB101 cells", titles
    assert titles[1].startswith("Best-so-far digits_test on a pool of 60 nb101 cells"), titles
    text = _stdout(book)
    assert "NB101 hash: 28cfc7874f6d200472e1a9dcd8650aa0 | parameters on CIFAR-10: 2,694,282" in text
    assert "60 NB101 cells, 60 runs trained now" in text and "validity 1.000" in text
    assert text.count("valid: True") == 3
    for method in ("random", "rea", "crlso"):
        assert f"\n{method} " in text, text
    assert (notebook_env / "out" / "nb101_digits.parquet").exists()
    print(f"04_other_spaces.ipynb: {seconds:.1f} s")
