"""Package data: the embedded default benchmark and its run, installed as ``lso._data`` (read by ``lso.bench.default``
through importlib.resources; see pyproject.toml). Not imported as code."""
