"""Benchmark tables: one columnar type for every source (CSV, official NAS-Bench-201 .pth, NATS-Bench tss, our own)."""

from lso.bench.importers import IMPORT_KINDS, ImportOptions, import_table, import_to_file
from lso.bench.metric_info import MetricInfo, infer_metric_info, parse_overrides
from lso.bench.table import BenchmarkTable, TableMeta

__all__ = [
    "BenchmarkTable",
    "IMPORT_KINDS",
    "ImportOptions",
    "MetricInfo",
    "TableMeta",
    "import_table",
    "import_to_file",
    "infer_metric_info",
    "parse_overrides",
]
