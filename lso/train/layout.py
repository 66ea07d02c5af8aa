"""The run folder's layout: moved to ``lso.runs.format`` (the one module that owns the run format, below the
models); ``RunLayout`` is re-exported here so that ``from lso.train.layout import RunLayout`` keeps working."""

from lso.runs.format import RunLayout

__all__ = ["RunLayout"]
