"""Growing networks by splitting neurons: S2D and signed splitting (S3D), energy-aware selection, schedule.

Modules: ``conv`` (Conv1d or Conv2d: the one place where 1-D signals and 2-D images differ), ``sites`` (which
neurons are splittable), ``statistics`` (per-sample ``x`` and ``g sigma'' a^2``),
``splitting`` (splitting matrices, ``S v`` products, eigenpairs, the ReLU stand-in), ``eigen`` (batched block
Lanczos), ``signed`` (descent values ``G`` and copies), ``grow`` (apply splits), ``cost`` and ``select``
(energy-aware selection), ``line_search`` (a round's step by the measured loss), ``schedule`` (train -> split ->
fine-tune over a ``SplitSpace``), ``stage_layout`` and
``stages`` (the NB201 network's stage-width channels as multi-producer sites: where they live, their splitting
matrices), ``nb201`` (the NB201 growth space and start network), ``refine`` (a package: one architecture, four
methods, ``RefineConfig`` -> ``refine`` -> ``RefineResult``, and their comparison), ``small_nets`` (an MLP and a CNN
test bed).
"""

from lso.growth.cost import CostModel, count_macs, count_params, cost_model
from lso.growth.errors import SplittingError
from lso.growth.grow import SplitReport, apply_splits
from lso.growth.schedule import (SPLIT_METHODS, GrowthConfig, GrowthResult, RoundRecord, SiteSpace, SplitSpace,
                                 grow_network, splitting_candidates)
from lso.growth.select import Selection, select_greedy, select_random
from lso.growth.signed import NeuronSplit, descent_values, neuron_splits, random_splits, split_value
from lso.growth.sites import Consumer, NeuronSite
from lso.growth.splitting import (Eigenpairs, eigenpairs_exact, eigenpairs_fast, second_derivative_of,
                                  site_eigenpairs, softplus_second_derivative, splitting_matrices,
                                  splitting_matvec)
from lso.growth.statistics import SiteStatistics, collect_statistics

__all__ = [
    "SPLIT_METHODS", "Consumer", "CostModel", "Eigenpairs", "GrowthConfig", "GrowthResult", "NeuronSite", "NeuronSplit",
    "RoundRecord", "Selection", "SiteSpace", "SplitSpace", "SiteStatistics", "SplitReport", "SplittingError",
    "apply_splits",
    "collect_statistics", "cost_model", "count_macs", "count_params", "descent_values", "eigenpairs_exact",
    "eigenpairs_fast", "grow_network", "neuron_splits", "random_splits", "second_derivative_of", "select_greedy",
    "select_random", "site_eigenpairs", "softplus_second_derivative", "split_value", "splitting_candidates",
    "splitting_matrices", "splitting_matvec",
]
