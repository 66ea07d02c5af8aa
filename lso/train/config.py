"""The typed training configuration: moved to ``lso.runs.config`` (with the run format, below the models);
re-exported here so that ``from lso.train.config import TrainConfig`` keeps working."""

from lso.runs.config import ConfigError, TrainConfig

__all__ = ["ConfigError", "TrainConfig"]
