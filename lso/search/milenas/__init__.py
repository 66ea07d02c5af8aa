"""MiLeNAS (He et al., CVPR 2020): mixed-level differentiable search on the NB201 supernet or on DARTS's (the DARTS /
NB301 space, ``MilenasConfig.space``), with first-order DARTS as the contrast (the two ``VARIANTS`` of
``MilenasConfig.method``).

Per minibatch pair (a batch of the weight half and a batch of the architecture half of the train split), both
gradients are taken at the current point ``(w, alpha)`` and then both parameters step (the update rules are in
``step``). ``L_train`` is the cross-entropy on the weight half and ``L_val`` on the architecture half (the split's
own ``valid`` and ``test`` are never seen by the search: the oracle uses them). Both variants cost two
forward/backward passes per step. The derived NB201 cell takes the argmax op per edge, the DARTS genotype DARTS's
rule (``lso.nets.darts_supernet.derive_genotype``); it is scored by an ``Oracle`` (benchmark table or training).

Modules: ``config`` (``MilenasConfig``, ``VARIANTS``, ``MilenasError``), ``step`` (gradients, optimisers, one
step), ``run`` (``run_milenas``), ``result`` (``MilenasResult``, ``SearchEpoch``, ``RESULT.json``), ``collapse``
(parameter-free edges), ``scoring`` (``build_oracle``), ``summary`` (``MilenasSummary`` over several runs).
"""

from lso.search.milenas.collapse import PARAMETER_FREE_OPS, edge_ops, is_collapsed, parameter_free_edges
from lso.search.milenas.config import VARIANTS, MilenasConfig, MilenasError
from lso.search.milenas.result import MilenasResult, SearchEpoch
from lso.search.milenas.run import build_supernet, run_milenas, search_halves
from lso.search.milenas.scoring import build_oracle
from lso.search.milenas.step import SearchOptimisers, StepGradients, make_optimisers, search_step, step_gradients
from lso.search.milenas.summary import MilenasSummary, summarise

__all__ = [
    "PARAMETER_FREE_OPS",
    "VARIANTS",
    "MilenasConfig",
    "MilenasError",
    "MilenasResult",
    "MilenasSummary",
    "SearchEpoch",
    "SearchOptimisers",
    "StepGradients",
    "build_oracle",
    "build_supernet",
    "edge_ops",
    "is_collapsed",
    "make_optimisers",
    "parameter_free_edges",
    "run_milenas",
    "search_halves",
    "search_step",
    "step_gradients",
    "summarise",
]
