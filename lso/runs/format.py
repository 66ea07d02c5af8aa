"""The training run folder: the ONE module that knows its file names, JSON keys and how to read and write them.

``lso.train.run.train_run`` writes a run, everything else (the run listing, the latent searches' preflight,
``LatentModel.load``, the CLI's ``--run`` checks, the demo, the app) reads it through the typed records below::

    RUN/config.json                 RunRecord: TrainConfig, seed, device, metric, table path + checksum + rows,
                                    package versions, created (a relative table path is relative to RUN: the
                                    shipped default run says ``../default.parquet`` so it works wherever the
                                    checkout lies)
    RUN/labelled.json               LabelSet: the labelled sample's official indices, values, mean/std
    RUN/predictor.safetensors       pseudo-label GNN (when pseudo-labels are on)
    RUN/pseudo_labels.safetensors   its standardised predictions for all 15,625 cells, ``pseudo_y [15625]``
    RUN/checkpoint.pt               resumable state after the last finished epoch (plain state dicts, tensors)
    RUN/history.csv                 one row of EpochStats per epoch
    RUN/surrogates/epoch_XXXX.safetensors   ICNN after epoch XXXX (0000 = initialisation), every k epochs + last
    RUN/gvae.safetensors            final encoder + decoder
    RUN/surrogate.safetensors       final ICNN (with its label scaler buffers)
    RUN/metrics.json                RunMetrics, written last: its presence marks a finished run

File names and JSON field names are fixed (other tools read them). Readers raise ``RunFormatError`` (an
``LsoError``), one line naming the folder or file: ``... it has no labelled.json`` for a missing file,
``... labelled.json is damaged: ...`` for one that is unreadable or lacks what the record needs. Older runs
(written before a config field existed, e.g. without ``conv``) read with the defaults of the fields they lack.

This module is the entry point: import every name from here (or ``lso.runs``). The code is split by job:
``lso.runs.layout`` (where the files are), ``lso.runs.records`` (the typed records and JSON keys),
``lso.runs.readers`` (reading, ``RunFormatError``) and ``lso.runs.writers`` (atomic writing).
"""

from lso.runs.layout import RunLayout
from lso.runs.readers import (RunFormatError, read_checkpoint, read_labels, read_metrics, read_pseudo_labels,
                              read_record)
from lso.runs.records import CHECKPOINT_KEYS, LEGACY_PROTOCOL, LabelSet, RunMetrics, RunRecord, TableRecord
from lso.runs.writers import claim_run, write_checkpoint, write_labels, write_metrics, write_pseudo_labels

__all__ = ["CHECKPOINT_KEYS", "LEGACY_PROTOCOL", "LabelSet", "RunFormatError", "RunLayout", "RunMetrics", "RunRecord",
           "TableRecord", "claim_run", "read_checkpoint", "read_labels", "read_metrics", "read_pseudo_labels",
           "read_record", "write_checkpoint", "write_labels", "write_metrics", "write_pseudo_labels"]
