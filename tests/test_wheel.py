"""A package that installs anywhere: the wheel built from this tree, installed in a fresh virtual environment (no
checkout, no Makefile), runs ``lso --version``, ``lso demo`` on the embedded benchmark and ``lso app``.

The slow test takes about 2.5 minutes here (2 cores): about 80 s to install torch and the wheel with its dependencies
(pip's cache and the machine's local index serve them; a first run on a bare machine downloads them), about 60 s of
``lso demo``, a few seconds of ``lso app``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from appserver import children, free_port, start_app, stop_and_check, wait_healthy

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: What a wheel is built from: everything else in the checkout (venv, runs, build outputs) stays out.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "lso", "app", "benchmarks_data")
TORCH = "torch==2.13.0"  # first and pinned, as the README says: the CPU build here


def test_every_package_under_lso_is_in_the_wheel():
    """pyproject.toml lists packages by hand (mapped folders can't be found): a new subpackage must be added."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "lso").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapped == {"lso._data": "benchmarks_data", "lso._app": "app"}
    for package in listed - found:  # the mapped ones and their subfolders
        top = ".".join(package.split(".")[:2])
        folder = REPO / mapped[top] / Path(*package.split(".")[2:])
        assert folder.is_dir(), f"{package}: {folder} is missing"


def test_version_comes_from_the_package_metadata():
    from lso import __version__
    from lso.cli.main import main

    assert __version__ == PYPROJECT["project"]["version"]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code in (0, None)


def _run(argv: list, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(bin folder of a fresh venv holding the wheel with its [app] extra, a work folder outside the checkout, env)."""
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv, work = root / "src", root / "dist", root / "venv", root / "work"
    work.mkdir()
    for name in SOURCES:  # a copy: the build's build/ and egg-info stay out of the checkout, stale files out of the wheel
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.exists():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LSO_")}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, src], work, env, 600)
    (wheel,) = dist.glob("lso-*.whl")
    _run([sys.executable, "-m", "venv", venv], work, env, 300)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    _run([*pip, TORCH], work, env, 900)
    _run([*pip, f"{wheel}[app]"], work, env, 900)
    return venv / "bin", work, env


@pytest.mark.slow
def test_the_installed_wheel_is_self_contained(installed):
    bin_dir, work, env = installed
    where = _run([bin_dir / "python", "-c", "import lso, lso.bench.default as d, lso.cli.app as a; "
                  "print(lso.__file__, d.CHECKOUT, d.EMBEDDED, d.DEFAULT_RUN, a.APP_MAIN, sep='\\n')"],
                 work, env, 120).stdout.split("\n")
    site = (bin_dir.parent / "lib").resolve()
    assert Path(where[0]).resolve().is_relative_to(site) and where[1] == "None"
    for path in where[2:5]:
        assert Path(path).resolve().is_relative_to(site) and Path(path).exists(), path
    version = _run([bin_dir / "lso", "--version"], work, env, 120).stdout.strip()
    assert version == f"lso {PYPROJECT['project']['version']}"


@pytest.mark.slow
def test_demo_runs_from_the_wheel_on_the_embedded_benchmark(installed):
    bin_dir, work, env = installed
    out = work / "demo"
    done = _run([bin_dir / "lso", "demo", "--epochs", "1", "--budget", "30", "--out", out], work, env, 900)
    assert "lso/_data/default.parquet" in done.stdout  # the embedded table, from the installed package
    assert "15625 cells, 6466 unique" in done.stdout and "best cell found within 30 queries" in done.stdout
    for method in ("crlso", "rea"):
        assert (out / f"{method}_s0.json").is_file()


@pytest.mark.slow
def test_app_serves_from_the_wheel_and_stops_with_lso_app(installed):
    bin_dir, work, env = installed
    port = free_port()
    proc = start_app([bin_dir / "lso"], port, work / "workspace", cwd=work, env=env)
    try:
        wait_healthy(proc, port, timeout=30)
        servers = children(proc.pid)
        assert servers
    except BaseException:
        proc.kill()
        raise
    code, out = stop_and_check(proc, servers, signal.SIGTERM)
    assert code == 0, out


@pytest.mark.slow
def test_app_pages_run_from_the_wheel(installed):
    """The pages import their helpers (``common.*``) and read the embedded table and run from site-packages."""
    bin_dir, work, env = installed
    script = (
        "import os, lso.bench.default as d, lso.cli.app as a\n"
        "os.environ['LSO_DEFAULT_RUN'] = str(d.DEFAULT_RUN)  # as `lso app` sets it\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file(str(a.APP_MAIN), default_timeout=120)\n"
        "for page in ('views/benchmark.py', 'views/latent.py'):\n"
        "    at.switch_page(page); at.run()\n"
        "    assert not at.exception, [e.value for e in at.exception]\n"
        "    print(page, [t.value for t in at.title])\n"
    )
    done = _run([bin_dir / "python", "-c", script], work, dict(env, LSO_WORKSPACE=str(work / "pages_ws")), 600)
    assert "['Benchmark']" in done.stdout and "['Latent space']" in done.stdout
