"""Training of the G-VAE + ICNN (CR-LSO): ``TrainConfig``, ``train_run`` (writes a run directory), ``RunLayout``."""

from lso.runs.config import ConfigError, TrainConfig
from lso.runs.format import RunLayout
from lso.train.run import RunError, RunResult, train_run

__all__ = ["ConfigError", "RunError", "RunLayout", "RunResult", "TrainConfig", "train_run"]
