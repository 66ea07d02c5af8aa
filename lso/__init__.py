"""lso: a latent-space neural architecture design workbench."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("lso")  # the installed distribution's version (pyproject.toml's [project] version)
except PackageNotFoundError:  # imported from a checkout that was never installed (PYTHONPATH=.)
    __version__ = "0+unknown"
