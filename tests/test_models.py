"""ICNN convexity (at init and after projected training steps), decoder validity and errors, encoder shapes."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from lso.data.graphs import all_graphs
from lso.models import GVAE, ICNN, LatentError
from lso.space import Cell


def _convexity_gap(f: ICNN, generator: torch.Generator, pairs: int = 256, scale: float = 3.0) -> float:
    """Largest f(t a + (1-t) b) - (t f(a) + (1-t) f(b)) over random segments (<= 0 for a convex f)."""
    a = torch.randn(pairs, f.latent_dim, generator=generator) * scale
    b = torch.randn(pairs, f.latent_dim, generator=generator) * scale
    t = torch.rand(pairs, 1, generator=generator)
    with torch.no_grad():
        gap = f(t * a + (1 - t) * b) - (t.squeeze(1) * f(a) + (1 - t.squeeze(1)) * f(b))
    return float(gap.max())


def test_icnn_is_convex_at_init_and_after_projected_training():
    torch.manual_seed(0)
    f = ICNN(16, (32, 32))
    gen = torch.Generator().manual_seed(1)
    assert f.is_convex() and _convexity_gap(f, gen) <= 1e-5
    # Fit a deliberately non-convex target; projection after each step keeps f convex.
    z = torch.randn(512, 16, generator=gen)
    y = torch.sin(3 * z[:, 0]) + z[:, 1].abs()
    opt = torch.optim.Adam(f.parameters(), lr=5e-2)
    went_negative = False
    for _ in range(50):
        loss = F.mse_loss(f(z), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        went_negative |= not f.is_convex()  # the raw step does leave the feasible set ...
        f.project_()  # ... and the projection brings it back
        assert f.is_convex()
    assert went_negative, "the test never exercised the projection"
    assert _convexity_gap(f, gen) <= 1e-4
    # predict = y_mean - y_std * f is concave
    f.set_scaler(80.0, 5.0)
    a, b = torch.randn(64, 16, generator=gen), torch.randn(64, 16, generator=gen)
    with torch.no_grad():
        mid = f.predict(0.5 * (a + b))
        assert bool((mid >= 0.5 * (f.predict(a) + f.predict(b)) - 1e-4).all())


def test_icnn_without_projection_can_be_nonconvex():
    """The convexity check above can fail: a negative hidden-to-hidden weight breaks it."""
    torch.manual_seed(0)
    f = ICNN(2, (8, 8))
    with torch.no_grad():
        for w in f.constrained():
            w.fill_(-1.0)
    assert not f.is_convex()
    assert _convexity_gap(f, torch.Generator().manual_seed(0), pairs=2048) > 1e-3


def test_decode_is_always_valid_for_random_and_extreme_latents():
    torch.manual_seed(0)
    gvae = GVAE(16, 32)
    gen = torch.Generator().manual_seed(0)
    z = torch.cat([torch.randn(500, 16, generator=gen), 1e6 * torch.randn(20, 16, generator=gen),
                   torch.full((1, 16), 3e38), torch.zeros(1, 16)])
    cells = gvae.decoder.decode(z)
    assert len(cells) == len(z) and all(isinstance(c, Cell) for c in cells)
    assert all(Cell.from_string(c.to_string()) == c for c in cells)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_decode_rejects_nonfinite_latents(bad):
    gvae = GVAE(16, 32)
    z = torch.zeros(3, 16)
    z[1, 4] = bad
    with pytest.raises(LatentError, match="rows \\[1\\]"):
        gvae.decoder.decode(z)


def test_decode_rejects_wrong_shape():
    with pytest.raises(LatentError, match="shape"):
        GVAE(16, 32).decoder.decode(torch.zeros(2, 8))


def test_encoder_separates_cells_and_has_shapes():
    torch.manual_seed(0)
    gvae = GVAE(16, 32)
    graphs = all_graphs().select(torch.arange(200))
    out = gvae(graphs, generator=torch.Generator().manual_seed(0))
    assert out.logits.shape == (200, 6, 5) and out.mu.shape == out.z.shape == (200, 16)
    mu = gvae.encode_mean(graphs)
    assert torch.unique(mu.round(decimals=5), dim=0).shape[0] == 200  # distinct cells, distinct encodings
