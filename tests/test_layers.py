"""The package's layers: no module imports a module of a higher layer (hidden function-level imports included).

Layers, low to high: the base (errors, files, seeds, the search space, the oracle contract, rank statistics) ->
benchmark tables and data -> the run format -> learned models and networks -> training, search, growth ->
figures -> reports (files written from results and figures) -> the command line and the demo. A new package of ``lso`` must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

LSO = Path(__file__).resolve().parents[1] / "lso"

LAYERS = {
    "__init__": 0, "errors": 0, "atomic": 0, "seeds": 0, "device": 0, "jobs": 0, "space": 0, "spaces": 0, "oracle": 0,
    "stats": 0,
    "bench": 1, "data": 1,
    "runs": 2,
    "models": 3, "nets": 3,
    "train": 4, "search": 4, "growth": 4,
    "viz": 5,
    "report": 6,
    "cli": 7, "demo": 7,
}


def _unit(path: Path, root: Path = LSO) -> str:
    """The package (or top-level module) of ``lso`` a file belongs to."""
    return path.relative_to(root).parts[0].removesuffix(".py")


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, lso unit)`` of every absolute import of ``lso.X...`` (or ``from lso import X``) in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "lso" else [f"lso.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(node.lineno, name.split(".")[1]) for name in names if name.startswith("lso.")]
    return found


def upward_imports(root: Path = LSO) -> list[str]:
    """``file:line imports lso.X`` for every import of a higher layer."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        unit = _unit(path, root)
        for line, target in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            if target in LAYERS and LAYERS[target] > LAYERS[unit]:
                bad.append(f"{path.relative_to(root.parent)}:{line} ({unit}, layer {LAYERS[unit]}) imports lso.{target} "
                           f"(layer {LAYERS[target]})")
    return bad


def test_every_part_of_lso_has_a_layer():
    units = {_unit(p) for p in LSO.rglob("*.py")}
    assert units <= set(LAYERS), f"give these a layer in tests/test_layers.py: {sorted(units - set(LAYERS))}"


def test_no_module_imports_a_higher_layer():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path):
    fake = tmp_path / "lso"
    (fake / "bench").mkdir(parents=True)
    (fake / "bench" / "quality.py").write_text("def f():\n    from lso.train.correlation import spearman\n")
    (fake / "models").mkdir()
    (fake / "models" / "w.py").write_text("from lso import runs\nimport lso.search.oracle\n")
    assert len(upward_imports(fake)) == 2 and "lso.train" in upward_imports(fake)[0]
