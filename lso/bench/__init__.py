"""Benchmark tables: one columnar type for every source (CSV, official NAS-Bench-201 .pth, NATS-Bench tss, our own)."""

from lso.bench.table import BenchmarkTable, TableMeta

__all__ = ["BenchmarkTable", "TableMeta"]
