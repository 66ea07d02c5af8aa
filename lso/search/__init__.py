"""Architecture search: oracles, the query ledger, the method registry and harness, baselines and comparisons.

Latent-space methods (CR-LSO ``crlso``, surfing ``surf``) plug into the same registry from their own modules.
"""

from lso.search.ledger import BudgetExhausted, QueryLedger, isomorphism_class
from lso.search.oracle import Evaluation, Oracle, TableOracle, search_metrics
from lso.search.registry import (
    MethodRegistry,
    SearchContext,
    SearchMethod,
    UnknownMethodError,
    default_registry,
    run_search,
)
from lso.search.result import BestSoFar, SearchResult

__all__ = [
    "BestSoFar",
    "BudgetExhausted",
    "Evaluation",
    "MethodRegistry",
    "Oracle",
    "QueryLedger",
    "SearchContext",
    "SearchMethod",
    "SearchResult",
    "TableOracle",
    "UnknownMethodError",
    "default_registry",
    "isomorphism_class",
    "run_search",
    "search_metrics",
]
