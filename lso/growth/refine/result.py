"""What a refine run returns (``RefineRound``, ``RefineResult``) and its RESULT.json, written and read back.

RESULT.json: ``{"rounds": [{params, flops, train_accuracy, valid_accuracy, test_accuracy, seconds, device, splits,
rolled_back, epochs, eps}], "config": {arch, dataset, method, rounds, budget_params, seed, device, protocol,
finetune_epochs, inner_mult, stage_mult, groups, start_widths, copies, c, eps, route, steps, value_samples,
seconds_values, seconds_train, widths, rollback_tolerance, retries, start_epochs, full_train_split, finetune_lr_mult,
line_search, line_search_powers}}`` -- field names and order are read by other tools; keep them (later keys are appended; files without
them read back with the settings they ran with).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lso.atomic import write_json
from lso.growth.refine.config import RefineConfig, RefineError
from lso.nets.protocol import TrainProtocol

ROUND_KEYS = ("params", "flops", "train_accuracy", "valid_accuracy", "test_accuracy", "seconds", "device", "splits",
              "rolled_back", "epochs", "eps")
# Round keys absent from files written before they existed, and the value such a file means.
_LATER_ROUND_KEYS = ("rolled_back", "epochs", "eps")
# Config keys absent from older files, and the settings those files ran with.
_LATER_SETTINGS = {"rollback_tolerance": None, "retries": 1, "start_epochs": None, "full_train_split": False,
                   "finetune_lr_mult": 1.0, "line_search": False, "line_search_powers": (-2, -1, 0, 1, 2, 3)}
_SETTINGS = ("arch", "dataset", "method", "rounds", "budget_params", "seed", "finetune_epochs", "inner_mult",
             "stage_mult", "copies", "c", "eps", "route", "steps", "value_samples")

# RESULT.json's config block, in order.
CONFIG_KEYS = ("arch", "dataset", "method", "rounds", "budget_params", "seed", "device", "protocol", "finetune_epochs",
               "inner_mult", "stage_mult", "groups", "start_widths", "copies", "c", "eps", "route", "steps",
               "value_samples", "seconds_values", "seconds_train", "widths", "rollback_tolerance", "retries",
               "start_epochs", "full_train_split", "finetune_lr_mult", "line_search", "line_search_powers")


def settings_dict(cfg: RefineConfig) -> dict[str, Any]:
    """The settings of ``cfg`` as RESULT.json's config block holds them (JSON-able; the protocol as a dict)."""
    return {"arch": cfg.arch, "dataset": cfg.dataset, "method": cfg.method, "rounds": cfg.rounds,
            "budget_params": None if cfg.budget_params is None else int(cfg.budget_params), "seed": int(cfg.seed),
            "protocol": cfg.train_protocol.to_dict(), "finetune_epochs": cfg.finetune_epochs,
            "inner_mult": cfg.inner_mult, "stage_mult": cfg.stage_mult, "groups": list(cfg.groups),
            "copies": cfg.copies, "c": cfg.c, "eps": cfg.eps, "route": cfg.route, "steps": cfg.steps,
            "value_samples": cfg.value_samples, "rollback_tolerance": cfg.rollback_tolerance, "retries": cfg.retries,
            "start_epochs": cfg.start_epochs, "full_train_split": cfg.full_train_split,
            "finetune_lr_mult": cfg.finetune_lr_mult, "line_search": cfg.line_search,
            "line_search_powers": list(cfg.line_search_powers)}


@dataclass(frozen=True)
class RefineRound:
    """One round. Accuracies in percent (eval mode, after the round's training); ``flops``: multiply-accumulates of
    the Linear and convolution layers for one image or signal (NB201's convention); ``seconds``: splitting values +
    split + training of this round; ``splits``: neurons split per site in this round (empty for round 0, and for a
    round that was ``rolled_back``); ``epochs``: training epochs spent in this round, retries included (0 in files
    written before it was recorded); ``eps``: the step of the round's split (0 for round 0 and "scratch")."""

    params: int
    flops: int
    train_accuracy: float
    valid_accuracy: float
    test_accuracy: float
    seconds: float
    device: str
    splits: dict[str, int]
    rolled_back: bool = False  # the round's split lowered validation accuracy: the network before it was kept
    epochs: int = 0
    eps: float = 0.0


@dataclass(frozen=True)
class RefineResult:
    """A refine run: its rounds (round 0 is the trained starting network), its settings, and timings of its parts.

    ``config`` is the run's ``RefineConfig`` with ``budget_params`` resolved (NB201's size of the cell when it was
    None); ``device`` the device it ran on (``lso.device.describe_device``); ``start_widths`` the starting network's
    width groups. ``seconds_values`` / ``seconds_train`` per round split ``seconds`` into splitting-value computation
    (statistics, eigenpairs, selection, split) and training; ``widths`` the width groups
    (``lso.growth.nb201.GROUPS``: stage and inner widths) after each round.
    """

    rounds: tuple[RefineRound, ...]
    config: RefineConfig
    device: str
    start_widths: dict[str, int]
    seconds_values: tuple[float, ...]
    seconds_train: tuple[float, ...]
    widths: tuple[dict[str, int], ...]

    @property
    def final(self) -> RefineRound:
        return self.rounds[-1]

    def to_dict(self) -> dict[str, Any]:
        """RESULT.json's content (module docstring): the rounds, and the config block with the run's settings,
        device, start widths, and per-round value/train seconds and widths."""
        cfg = self.config
        if cfg.budget_params is None:
            raise RefineError("a refine result needs its resolved budget_params")
        run = {"device": self.device, "start_widths": dict(self.start_widths),
               "seconds_values": list(self.seconds_values), "seconds_train": list(self.seconds_train),
               "widths": [dict(w) for w in self.widths]}
        merged = {**settings_dict(cfg), **run}
        config = {k: merged[k] for k in CONFIG_KEYS}
        return {"rounds": [dataclasses.asdict(r) for r in self.rounds], "config": config}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RefineResult":
        """Inverse of ``to_dict``.

        Raises:
            RefineError: a missing or malformed field (and the config's own checks, ``RefineConfig``).
        """
        try:
            block = data["config"]
            later = {k: block.get(k, old) for k, old in _LATER_SETTINGS.items()}  # absent in older files
            later["line_search_powers"] = tuple(later["line_search_powers"])
            config = RefineConfig(**{k: block[k] for k in _SETTINGS}, groups=tuple(block["groups"]),
                                  protocol=TrainProtocol.from_dict(block["protocol"]), **later)
            rounds = tuple(RefineRound(**{k: r[k] for k in ROUND_KEYS if k not in _LATER_ROUND_KEYS or k in r})
                           for r in data["rounds"])
            return cls(rounds=rounds, config=config, device=str(block["device"]),
                       start_widths=dict(block["start_widths"]),
                       seconds_values=tuple(float(v) for v in block["seconds_values"]),
                       seconds_train=tuple(float(v) for v in block["seconds_train"]),
                       widths=tuple(dict(w) for w in block["widths"]))
        except (KeyError, TypeError, ValueError) as err:
            raise RefineError(f"not a refine result (RESULT.json): {type(err).__name__}: {err}") from err

    def save(self, path: str | Path) -> Path:
        """Write RESULT.json atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "RefineResult":
        """Read a RESULT.json written by ``save``.

        Raises:
            RefineError: the file is not JSON or not a refine result.
            OSError: the file cannot be read.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise RefineError(f"{path}: not JSON ({err})") from err
        return cls.from_dict(data)
