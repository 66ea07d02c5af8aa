"""Tiny protocols with replica seed groups, shared by the run-cache and table merge tests: ``REP`` and ``TWIN`` hold
disjoint seeds whose groups ``BOTH`` (all eight seeds, in groups of 2) trains together."""

from __future__ import annotations

from lso.nets.protocol import TrainProtocol

REP = TrainProtocol(
    name="tiny-rep", dataset="digits", epochs=2, lr=0.05, batch_size=32, channels=4, cells_per_stage=1,
    seeds=(0, 1), train_samples=200, test_seeds=(2, 3), replicas=True,
)
TWIN = REP.with_(name="tiny-rep-extra", seeds=(4, 5), test_seeds=(6, 7))
BOTH = REP.with_(name="tiny-rep-4", seeds=(0, 1, 4, 5), test_seeds=(2, 3, 6, 7), replica_group=2)
