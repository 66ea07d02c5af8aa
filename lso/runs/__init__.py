"""Training runs on disk: the run folder's format (``lso.runs.format``, the one owner of its file names and JSON
keys, split into ``layout``, ``records``, ``readers`` and ``writers``) and the training configuration it records
(``lso.runs.config``).

It sits below the models, so that ``lso.models.workbench`` reads a run without reaching up into ``lso.train``
(which writes runs and re-exports these names under their old paths).
"""

from lso.runs.config import CONV_KINDS, ConfigError, TrainConfig
from lso.runs.format import (CHECKPOINT_KEYS, LEGACY_PROTOCOL, LabelSet, RunFormatError, RunLayout, RunMetrics,
                             RunRecord, TableRecord, claim_run, read_checkpoint, read_labels, read_metrics,
                             read_pseudo_labels, read_record, write_checkpoint, write_labels, write_metrics,
                             write_pseudo_labels)

__all__ = ["CHECKPOINT_KEYS", "CONV_KINDS", "ConfigError", "LEGACY_PROTOCOL", "LabelSet", "RunFormatError", "RunLayout",
           "RunMetrics", "RunRecord", "TableRecord", "TrainConfig", "claim_run", "read_checkpoint", "read_labels",
           "read_metrics", "read_pseudo_labels", "read_record", "write_checkpoint", "write_labels", "write_metrics",
           "write_pseudo_labels"]
