"""ICNN convexity (at init and after projected training steps), decoder validity and errors, encoder shapes; the
torch-geometric encoder layers against hand-written references, its state-dict keys, the swappable layer kinds."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from pathlib import Path

from torch_geometric.nn import GATConv, GINEConv, MessagePassing

from lso.data.graphs import EDGE_DIM, NODE_DIM, all_graphs, graphs_from_ops
from lso.models import GVAE, ICNN, CellEncoder, EdgeConv, LatentError
from lso.models.encoder import EncoderConfig
from lso.space import Cell

SHIPPED_RUN = Path(__file__).resolve().parents[2] / "benchmarks_data" / "default_run"


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


def _edge_conv_by_hand(conv: EdgeConv, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
    """The layer's definition edge by edge: ``m_ij = LeakyReLU(W [x_i || x_j || e_ij] + b)`` with ``W`` the
    concatenation of the target, source and edge weights; ``x_i' = LeakyReLU(sum_{j -> i} m_ij + R x_i)``."""
    w = torch.cat([conv.target.weight, conv.source.weight, conv.edge.weight], dim=1)  # [c_out, 2 c_in + edge_dim]
    out = []
    for i in range(x.shape[0]):
        total = conv.root.weight @ x[i]
        for k in range(edge_index.shape[1]):
            j, target = int(edge_index[0, k]), int(edge_index[1, k])
            if target == i:
                total = total + F.leaky_relu(w @ torch.cat([x[i], x[j], edge_attr[k]]) + conv.target.bias, 0.2)
        out.append(F.leaky_relu(total, 0.2))
    return torch.stack(out)


def test_edge_conv_is_a_pyg_layer_equal_to_its_definition_on_a_small_graph():
    torch.manual_seed(0)
    conv = EdgeConv(3, 5, edge_dim=2)
    assert isinstance(conv, MessagePassing) and conv.aggr == "add"
    x = torch.randn(4, 3)
    # directed, with a node of in-degree 0 (node 0), a double in-edge (node 3) and a reverse pair (1 <-> 2)
    edge_index = torch.tensor([[0, 0, 1, 2, 1], [1, 3, 2, 1, 3]])
    edge_attr = torch.randn(5, 2)
    with torch.no_grad():
        got = conv(x, edge_index, edge_attr)
        want = _edge_conv_by_hand(conv, x, edge_index, edge_attr)
        assert got.shape == (4, 5)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
        # the direction matters: flipping every edge gives another result
        assert not torch.allclose(conv(x, edge_index.flip(0), edge_attr), want, atol=1e-3)


def _encoder_by_hand(encoder: CellEncoder, ops: torch.Tensor) -> torch.Tensor:
    """``mu`` of the default encoder written with plain tensor ops (gather + ``index_add_``), the pre-PyG code."""
    graphs = graphs_from_ops(ops)
    src, dst = graphs.edge_index
    h = graphs.x
    for conv in encoder.convs:
        message = F.leaky_relu(conv.target(h)[dst] + conv.source(h)[src] + conv.edge(graphs.edge_attr), 0.2)
        h = F.leaky_relu(torch.zeros(h.shape[0], message.shape[1]).index_add_(0, dst, message) + conv.root(h), 0.2)
    pooled = torch.zeros(graphs.num_graphs, h.shape[1]).index_add_(0, graphs.batch, h)
    return encoder.mu(encoder.norm(pooled))


def test_encoder_state_dict_keys_are_unchanged():
    keys = list(CellEncoder(16, 128, 3).state_dict())
    convs = [f"convs.{k}.{name}" for k in range(3) for name in
             ("target.weight", "target.bias", "source.weight", "edge.weight", "root.weight")]
    assert keys == convs + ["norm.weight", "norm.bias", "mu.weight", "mu.bias", "logvar.weight", "logvar.bias"]
    assert list(GVAE(16, 128, 3).encoder.state_dict()) == keys
    assert CellEncoder(16, 128, 3).config == EncoderConfig()


def test_shipped_run_loads_unchanged_and_encodes_as_the_hand_written_encoder():
    from lso.models.workbench import LatentModel

    if not (SHIPPED_RUN / "gvae.safetensors").exists():
        pytest.skip("no shipped run in this checkout")
    model = LatentModel.load(SHIPPED_RUN)  # strict load_state_dict: a renamed or extra key would fail here
    ops = torch.randint(0, 5, (300, 6), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.gvae.encode_mean(graphs_from_ops(ops)),
                                   _encoder_by_hand(model.gvae.encoder, ops), rtol=0, atol=1e-5)


def test_same_seed_same_initial_weights_as_before():
    """The PyG base class draws no random numbers: a seeded default encoder starts where the old one did."""
    torch.manual_seed(0)
    a = CellEncoder()
    torch.manual_seed(0)
    widths = [NODE_DIM, 128, 128, 128]
    expected = []
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        expected += [torch.nn.Linear(c_in, c_out), torch.nn.Linear(c_in, c_out, bias=False),
                     torch.nn.Linear(EDGE_DIM, c_out, bias=False), torch.nn.Linear(c_in, c_out, bias=False)]
    for conv, k in zip(a.convs, range(0, 12, 4)):
        for mine, ref in zip((conv.target, conv.source, conv.edge, conv.root), expected[k:k + 4]):
            assert torch.equal(mine.weight, ref.weight)


@pytest.mark.parametrize(("conv", "layer"), [("gine", GINEConv), ("gat", GATConv)])
def test_alternative_layers_train_one_step(conv, layer):
    torch.manual_seed(0)
    encoder = CellEncoder.from_config(EncoderConfig(latent_dim=8, hidden=32, layers=2, conv=conv))
    assert all(isinstance(c.conv, layer) for c in encoder.convs)
    graphs = all_graphs().select(torch.arange(64))
    opt = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in encoder.parameters()]
    mu, logvar = encoder(graphs)
    assert mu.shape == logvar.shape == (64, 8)
    loss = mu.square().mean() + logvar.exp().mean()
    opt.zero_grad()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters())
    opt.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, encoder.parameters()))
    with torch.no_grad():
        assert torch.unique(encoder(graphs)[0].round(decimals=5), dim=0).shape[0] == 64


def test_encoder_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown layer kind"):
        EncoderConfig(conv="gcn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple of heads"):
        CellEncoder(8, 30, 2, conv="gat", heads=4)
    with pytest.raises(ValueError, match="positive"):
        EncoderConfig(layers=0)


def test_gradients_equal_the_hand_written_encoder_bit_for_bit():
    """Same forward values and the same gradients, bit for bit: seeded training is unchanged by the PyG layers."""
    torch.manual_seed(0)
    encoder = CellEncoder(16, 32, 3)
    ops = torch.randint(0, 5, (64, 6), generator=torch.Generator().manual_seed(1))
    grads = []
    for forward in (lambda: encoder(graphs_from_ops(ops))[0], lambda: _encoder_by_hand(encoder, ops)):
        encoder.zero_grad()
        mu = forward()
        mu.square().sum().backward()
        grads.append((mu.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]))
    (mu_pyg, g_pyg), (mu_ref, g_ref) = grads
    assert torch.equal(mu_pyg, mu_ref) and len(g_pyg) == len(g_ref) > 0
    assert all(torch.equal(a, b) for a, b in zip(g_pyg, g_ref))
