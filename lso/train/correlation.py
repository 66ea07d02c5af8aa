"""Rank correlations: moved to ``lso.stats`` (a lower layer, used by ``lso.bench`` too); re-exported here so that
``from lso.train.correlation import spearman, kendall`` keeps working."""

from lso.stats import kendall, spearman

__all__ = ["kendall", "spearman"]
