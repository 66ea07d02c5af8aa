"""Benchmark tables: one columnar type for every NAS-Bench-201 source (CSV, official NAS-Bench-201 .pth, NATS-Bench
tss, our own), ``SpaceTable`` for the other search spaces (NAS-Bench-101 tfrecord, DARTS genotypes)."""

from lso.bench.darts_genotypes import read_darts_genotypes
from lso.bench.importers import IMPORT_KINDS, SPACE_IMPORT_KINDS, ImportOptions, import_table, import_to_file
from lso.bench.metric_info import MetricInfo, infer_metric_info, parse_overrides
from lso.bench.nb101_tfrecord import read_nb101_tfrecord
from lso.bench.space_table import CellNotFoundError, SpaceTable, SpaceTableMeta, is_space_table_file
from lso.bench.table import BenchmarkTable, TableMeta

__all__ = [
    "BenchmarkTable",
    "CellNotFoundError",
    "IMPORT_KINDS",
    "ImportOptions",
    "MetricInfo",
    "SPACE_IMPORT_KINDS",
    "SpaceTable",
    "SpaceTableMeta",
    "TableMeta",
    "import_table",
    "import_to_file",
    "infer_metric_info",
    "is_space_table_file",
    "parse_overrides",
    "read_darts_genotypes",
    "read_nb101_tfrecord",
]
