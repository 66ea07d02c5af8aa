"""Searches compared on a pool over seeds and budgets (issue 18): ``compare_on_pool``.

Each method runs once per seed at the largest budget; its figure at a smaller budget ``b`` is read off the same run
(the incumbent among its first ``b`` queries), as a search stopped early would report. Figures per (method, budget):
the mean and standard deviation over seeds of the incumbent's report score, the mean of its signal, and the share of
seeds whose incumbent lies in the pool's top 1 % by report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lso.jobs import Reporter
from lso.search.pool import Pool, PoolError, PoolTrace

PoolRunner = Callable[[Pool, int, int], PoolTrace]
"""``runner(pool, budget, seed) -> PoolTrace``: ``random_on_pool``, ``rea_on_pool`` or a bound ``crlso_on_pool``."""


@dataclass(frozen=True)
class PoolComparison:
    """Traces of every method and seed on one pool, and the budgets to read them at."""

    pool: Pool
    budgets: tuple[int, ...]
    traces: Mapping[str, tuple[PoolTrace, ...]]

    def frame(self) -> pd.DataFrame:
        """One row per (method, budget): ``seeds``, ``report_mean``, ``report_std`` (over seeds, ddof=1),
        ``signal_mean``, ``top1pct_share`` and ``pool_best_report`` (the pool's best report, for scale)."""
        top1 = np.quantile(self.pool.report, 0.99)
        rows = []
        for method, traces in self.traces.items():
            for budget in self.budgets:
                report = np.array([t.best_report(self.pool, budget) for t in traces])
                signal = np.array([self.pool.signal[t.incumbent(self.pool, budget)] for t in traces])
                rows.append({"method": method, "budget": budget, "seeds": len(traces),
                             "report_mean": float(report.mean()),
                             "report_std": float(report.std(ddof=1)) if len(report) > 1 else float("nan"),
                             "signal_mean": float(signal.mean()), "top1pct_share": float(np.mean(report >= top1)),
                             "pool_best_report": float(self.pool.report.max())})
        return pd.DataFrame(rows)

    def curves(self) -> pd.DataFrame:
        """Best-so-far curves: one row per (method, queries) for 1..max budget, ``report_mean``/``report_std`` of
        the incumbent over seeds."""
        rows = []
        for method, traces in self.traces.items():
            for b in range(1, self.budgets[-1] + 1):
                report = np.array([t.best_report(self.pool, b) for t in traces])
                rows.append({"method": method, "queries": b, "report_mean": float(report.mean()),
                             "report_std": float(report.std(ddof=1)) if len(report) > 1 else 0.0})
        return pd.DataFrame(rows)

    def text(self) -> str:
        """The frame as a fixed-width table: one line per method, ``mean +- std`` per budget."""
        frame = self.frame()
        head = f"{'method':<10}" + "".join(f"{'@' + str(b):>16}" for b in self.budgets)
        lines = [head]
        for method, part in frame.groupby("method", sort=False):
            cells = [f"{r.report_mean:8.2f} +-{r.report_std:5.2f}" for r in part.itertuples()]
            lines.append(f"{method:<10}" + "".join(f"{c:>16}" for c in cells))
        return "\n".join(lines)


def compare_on_pool(pool: Pool, methods: Mapping[str, PoolRunner], budgets: Sequence[int], seeds: Sequence[int], *,
                    reporter: Reporter | None = None) -> PoolComparison:
    """Run every method for every seed at ``max(budgets)`` on ``pool`` (module docstring)."""
    if not budgets or not seeds or not methods:
        raise PoolError("compare_on_pool needs at least one budget, one seed and one method")
    too_large = [b for b in budgets if isinstance(b, (int, np.integer)) and b > len(pool)]
    if too_large:
        raise PoolError(f"budget {max(too_large)} exceeds the pool's {len(pool)} cells: a search would query every "
                        "cell (build a larger sample, or lower the budgets)")
    budgets = tuple(sorted({pool.check_budget(b) for b in budgets}))
    traces: dict[str, tuple[PoolTrace, ...]] = {}
    total, done = len(methods) * len(seeds), 0
    for name, runner in methods.items():
        runs = []
        for seed in seeds:
            runs.append(runner(pool, budgets[-1], int(seed)))
            done += 1
            if reporter is not None:
                reporter(done, total, f"{name} seed {seed}")
        traces[name] = tuple(runs)
    return PoolComparison(pool, budgets, traces)
