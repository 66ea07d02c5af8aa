"""A comparison over several models: each latent method runs on every run (G-VAE seed), one row per model."""

from __future__ import annotations

import shutil

import pytest

from lso.errors import LsoError
from lso.search.compare import CompareConfig, compare_methods


def test_latent_method_gets_one_row_per_model_and_the_spread(tiny_run, cifar10_table, tmp_path):
    runs = [tmp_path / "m1", tmp_path / "deep" / "m1"]  # same folder name twice: labels stay unique
    for path in runs:
        shutil.copytree(tiny_run, path)
    config = CompareConfig(methods=("crlso", "random"), seeds=(0, 1), budgets=(65, 70), signal="cifar10_valid",
                           report="cifar10_test", target=94.0)
    comparison = compare_methods(cifar10_table, config, run_dir=runs)
    assert comparison.config.methods == ("crlso@m1", "crlso@m1#2", "random")
    assert [s.method for s in comparison.summaries] == list(comparison.config.methods)
    assert {r.method for r in comparison.results} == set(comparison.config.methods) and len(comparison.results) == 6
    first, second = comparison.summaries[0], comparison.summaries[1]
    assert first.report_at == second.report_at  # two copies of one model: the same figures, no spread
    assert comparison.model_spread() == {"crlso": (0.0, 0.0)}
    assert "crlso on 2 models" in comparison.to_markdown()
    with pytest.raises(LsoError, match="same run twice"):
        compare_methods(cifar10_table, config, run_dir=[runs[0], runs[0]])
