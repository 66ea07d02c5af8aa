"""Training, run directories, resume, reload in a fresh process, metrics.json, the LatentModel API, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from lso.data.graphs import all_graphs
from lso.models import LatentModel
from lso.train import RunError, TrainConfig, train_run
from lso.train.fit import Targets, fit, new_state
from lso.train.labels import sample_labels
from lso.train.layout import RunLayout
from lso.space import unique_ids

pytestmark = pytest.mark.realdata

TINY = TrainConfig(epochs=2, batch_size=2048, hidden=16, icnn_hidden=(8, 8), labels=40, labelled_batch=16,
                   predictor_hidden=8, predictor_steps=5, surrogate_every=1, surrogate_warmup=1, seed=3,
                   pseudo_labels=True)
METRIC_FIELDS = ("reconstruction_accuracy", "validity", "uniqueness", "spearman", "kendall", "train_seconds")


@pytest.fixture(scope="module")
def table_path(nb201_dir):
    return nb201_dir / "nb201_cifar10.csv"


@pytest.fixture(scope="module")
def tiny_run(table_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    return train_run(table_path, "cifar10_valid", TINY, out)


def test_labels_are_a_seeded_random_sample(cifar10_table):
    a = sample_labels(cifar10_table, "cifar10_valid", 300, seed=0)
    assert len(set(a.indices.tolist())) == 300 and list(a.indices) == sorted(a.indices)
    assert a.indices.tolist() != list(range(300)) and a.indices.max() > 5000  # not the first N
    assert np.array_equal(a.indices, sample_labels(cifar10_table, "cifar10_valid", 300, seed=0).indices)
    assert not np.array_equal(a.indices, sample_labels(cifar10_table, "cifar10_valid", 300, seed=1).indices)
    values = cifar10_table.values("cifar10_valid")
    assert np.allclose(a.values, values[a.indices]) and abs(a.standardised().mean()) < 1e-9


def _train_weights(config: TrainConfig) -> dict[str, torch.Tensor]:
    graphs = all_graphs().select(torch.arange(600))
    state = new_state(config, torch.device("cpu"))
    rows = torch.arange(0, 600, 20)
    fit(state, graphs, Targets(rows, torch.randn(len(rows), generator=torch.Generator().manual_seed(0))), config)
    return {**{f"g.{k}": v for k, v in state.gvae.state_dict().items()}, **{f"i.{k}": v for k, v in state.icnn.state_dict().items()}}


def test_same_seed_same_weights_other_seed_other_weights():
    config = replace(TINY, batch_size=128)
    a, b, c = _train_weights(config), _train_weights(config), _train_weights(replace(config, seed=4))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_run_directory_and_metrics(tiny_run):
    layout = RunLayout.at(tiny_run.run_dir)
    for path in (layout.config, layout.labelled, layout.history, layout.gvae, layout.surrogate, layout.metrics,
                 layout.checkpoint, layout.predictor, layout.pseudo_labels):
        assert path.exists(), path
    assert layout.surrogate_epochs() == [0, 1, 2]
    metrics = json.loads(layout.metrics.read_text())
    for name in METRIC_FIELDS:
        assert isinstance(metrics[name], float), name
    assert metrics["validity"] == 1.0 and 0 < metrics["uniqueness"] <= 1 and metrics["novelty"] == 0.0
    assert metrics["quality_protocol"].startswith("encodings-gaussian") and "uniqueness_canonical" not in metrics
    labelled = json.loads(layout.labelled.read_text())["indices"]
    ids = unique_ids()
    # unlabelled isomorphism classes, once each (every cifar10_valid value of the table is finite)
    assert metrics["correlation_cells"] == len(set(ids) - {ids[i] for i in labelled})
    assert isinstance(metrics["spearman_unlabelled_rows"], float)
    config = json.loads(layout.config.read_text())
    assert config["seed"] == 3 and config["metric"] == "cifar10_valid" and "torch" in config["versions"]
    assert len(config["table"]["checksum"]) == 64
    assert [h.epoch for h in tiny_run.history] == [1, 2]
    assert layout.history.read_text().count("\n") == 3


def test_reload_in_a_fresh_process_gives_identical_encodings(tiny_run, tmp_path):
    model = LatentModel.load(tiny_run.run_dir)
    mu = model.encode_all()
    script = ("import sys, torch; from lso.models import LatentModel; "
              "m = LatentModel.load(sys.argv[1]); torch.save(m.encode_all(), sys.argv[2])")
    subprocess.run([sys.executable, "-c", script, str(tiny_run.run_dir), str(tmp_path / "mu.pt")], check=True)
    assert torch.equal(mu, torch.load(tmp_path / "mu.pt"))
    acc = json.loads(RunLayout.at(tiny_run.run_dir).metrics.read_text())["reconstruction_accuracy"]
    from lso.space import all_cells

    decoded = model.decode(mu)
    assert sum(a == b for a, b in zip(decoded, all_cells())) / 15625 == pytest.approx(acc)


def test_latent_model_api(tiny_run):
    model = LatentModel.load(tiny_run.run_dir)
    cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"]
    z = model.encode(cells)
    assert z.shape == (1, TINY.latent_dim)
    z = z + torch.randn(4, TINY.latent_dim, generator=torch.Generator().manual_seed(0))
    g = model.grad(z)
    eps = 1e-3
    step = torch.zeros_like(z)
    step[:, 2] = eps
    numeric = (model.predict(z + step) - model.predict(z - step)) / (2 * eps)
    assert torch.allclose(g[:, 2], numeric, atol=1e-2 * max(1.0, float(numeric.abs().max())))
    fit_result = model.fit_surrogate(z, torch.tensor([80.0, 85.0, 90.0, 70.0]), steps=60, lr=1e-2, snapshot_every=20)
    assert fit_result.losses[-1] < fit_result.losses[0] and len(fit_result.snapshots) == 4
    assert model.surrogate.is_convex()
    early = model.with_surrogate(0)
    assert not torch.equal(early.predict(z), model.predict(z))
    with pytest.raises(Exception, match="NaN"):
        model.decode(torch.full((1, TINY.latent_dim), float("nan")))


def test_interrupted_run_resumes_to_the_same_weights(table_path, tiny_run, tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first(state):
        if state.epoch == 1:
            raise Stop

    out = tmp_path / "interrupted"
    with pytest.raises(Stop):
        train_run(table_path, "cifar10_valid", TINY, out, after_checkpoint=stop_after_first)
    assert not RunLayout.at(out).metrics.exists()
    with pytest.raises(RunError, match="--resume"):
        train_run(table_path, "cifar10_valid", TINY, out)
    with pytest.raises(RunError, match="epochs"):
        train_run(table_path, "cifar10_valid", replace(TINY, epochs=5), out, resume=True)
    resumed = train_run(table_path, "cifar10_valid", TINY, out, resume=True)
    assert resumed.resumed_from == 1 and [h.epoch for h in resumed.history] == [1, 2]
    a, b = LatentModel.load(tiny_run.run_dir), LatentModel.load(out)
    assert torch.equal(a.encode_all(), b.encode_all())
    assert torch.equal(a.predict(a.encode_all()[:100]), b.predict(b.encode_all()[:100]))


def test_unsupervised_run_with_zero_labels(table_path, tmp_path):
    config = replace(TINY, labels=0, epochs=1)
    result = train_run(table_path, "cifar10_valid", config, tmp_path / "u")
    assert result.metrics.surrogate_trained is False and result.metrics.correlation_cells == 6466  # classes, once each
    assert not RunLayout.at(tmp_path / "u").predictor.exists()
    model = LatentModel.load(tmp_path / "u")
    z = model.encode_all()[:50]
    y = torch.linspace(60, 90, 50)
    model.fit_surrogate(z, y, steps=5)
    assert float(model.surrogate.y_mean) == pytest.approx(75.0)  # scaler set from the first scores


def test_cli_errors_are_clear(table_path, tmp_path):
    def run(args):
        proc = subprocess.run([sys.executable, "-m", "lso.cli.main", *args], capture_output=True, text=True)
        return proc.returncode, proc.stderr

    if not torch.cuda.is_available():
        code, err = run(["train", "--bench", str(table_path), "--out", str(tmp_path / "x"), "--device", "cuda"])
        assert code == 2 and "CUDA is not available" in err
    code, err = run(["train", "--bench", str(table_path), "--metric", "nope", "--out", str(tmp_path / "y")])
    assert code == 2 and "nope" in err


@pytest.mark.parametrize("conv", ["gine", "gat"])
def test_the_encoder_layer_is_a_choice_recorded_with_the_run(conv, table_path, tmp_path):
    config = TrainConfig(epochs=1, batch_size=2048, hidden=16, icnn_hidden=(8,), labels=0, conv=conv, seed=0)
    out = tmp_path / conv
    train_run(table_path, "cifar10_valid", config, out)
    assert json.loads((out / "config.json").read_text())["config"]["conv"] == conv
    model = LatentModel.load(out)  # rebuilt with the recorded layer: the saved weights load strictly
    assert type(model.gvae.encoder.convs[0]).__name__ == {"gine": "GINELayer", "gat": "GATLayer"}[conv]
    assert model.encode(model.decode(torch.zeros(3, 16))).shape == (3, 16)
    with pytest.raises(Exception, match="conv must be one of"):
        TrainConfig(conv="dgl")
