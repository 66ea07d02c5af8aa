"""Splitting matrices, the fast eigenpair route, the signed closed forms, and second-order agreement."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lso.growth import (SplittingError, apply_splits, collect_statistics, descent_values, eigenpairs_exact,
                        eigenpairs_fast, neuron_splits, second_derivative_of, site_eigenpairs,
                        softplus_second_derivative, split_value, splitting_matrices, splitting_matvec)
from lso.growth.cost import cost_model
from lso.growth.select import select_greedy
from lso.growth.signed import NeuronSplit
from lso.growth.small_nets import SmallCNN, SmallMLP


def _stats(net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss=F.cross_entropy):
    net.train()
    net(x)  # non-trivial BatchNorm running statistics
    net.eval()
    return collect_statistics(net, net.sites(), [(x[: len(x) // 2], y[: len(x) // 2]), (x[len(x) // 2:], y[len(x) // 2:])],
                              loss, second_derivative_of(net.act1))


@pytest.fixture
def cnn64():
    torch.manual_seed(0)
    net = SmallCNN(2, (4, 5), 3, "softplus", pool=2).double()
    x = torch.randn(8, 2, 8, 8, dtype=torch.float64)
    y = torch.randint(0, 3, (8,))
    return net, x, y


def test_matvec_and_fast_route_agree_with_exact_matrices(cnn64):
    net, x, y = cnn64
    stats = _stats(net, x, y)
    for name, st in stats.items():
        S = splitting_matrices(st)
        assert S.shape == (st.width, st.dim, st.dim)
        assert torch.allclose(S, S.transpose(1, 2))
        V = torch.randn(st.width, 3, st.dim, dtype=torch.float64)
        assert torch.allclose(splitting_matvec(st, V), torch.einsum("ode,obe->obd", S, V), atol=1e-13)
        exact = eigenpairs_exact(S)
        # enough products to span R^d: exact; conv2 has d = 36, conv1 d = 18
        fast = eigenpairs_fast(st, steps=st.dim, generator=torch.Generator().manual_seed(1))
        assert torch.allclose(fast.lambda_min, exact.lambda_min, atol=1e-12)
        assert torch.allclose(fast.lambda_max, exact.lambda_max, atol=1e-12)
        assert torch.allclose(torch.einsum("od,od->o", fast.v_min, exact.v_min).abs(), torch.ones(st.width, dtype=torch.float64),
                              atol=1e-6)
        assert exact.lambda_min.min() < 0 < exact.lambda_max.max()


def test_fast_route_converges_with_restarts_on_a_wide_layer():
    torch.manual_seed(1)
    net = SmallCNN(3, (16, 8), 4, "tanh").double()
    x, y = torch.randn(16, 3, 8, 8, dtype=torch.float64), torch.randint(0, 4, (16,))
    st = _stats(net, x, y)["conv2"]  # d = 16 * 9 = 144
    exact = eigenpairs_exact(splitting_matrices(st))
    fast = eigenpairs_fast(st, steps=40, max_subspace=24, generator=torch.Generator().manual_seed(0))
    scale = exact.lambda_max.abs().max()
    assert ((fast.lambda_min - exact.lambda_min).abs() / scale).max() < 1e-4
    assert ((fast.lambda_max - exact.lambda_max).abs() / scale).max() < 1e-4
    # Ritz values bound the spectrum from inside
    assert (fast.lambda_min >= exact.lambda_min - 1e-12).all() and (fast.lambda_max <= exact.lambda_max + 1e-12).all()


def test_relu_standin_is_softplus_beta3_second_derivative():
    h = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(F.softplus(h, beta=3.0).sum(), h, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), h)
    assert torch.allclose(second_derivative_of(nn.ReLU())(h.detach()), d2, atol=1e-12)
    assert torch.allclose(softplus_second_derivative(3.0)(h.detach()), d2, atol=1e-12)
    with pytest.raises(SplittingError, match="GELU"):
        second_derivative_of(nn.GELU())


def _brute_force_two_copies(S: torch.Tensor, c: float) -> float:
    """Grid over w_1 (w_2 = 1 - w_1, |w_1| + |w_2| <= c) and delta_1 in the unit disc; delta_2 = -w_1 delta_1 / w_2."""
    w1 = torch.linspace(-(c - 1) / 2, (c + 1) / 2, 801, dtype=torch.float64)
    w1 = w1[(w1 - 0.5).abs() > 1e-9]  # w_2 != 0 (a copy of weight 0 is no copy)
    w2 = 1 - w1
    ang = torch.linspace(0, math.pi, 181, dtype=torch.float64)
    u = torch.stack([ang.cos(), ang.sin()], dim=1)  # [A, 2]; -u gives the same quadratic forms
    r = torch.linspace(0, 1, 101, dtype=torch.float64)
    q = torch.einsum("ad,de,ae->a", u, S, u)  # [A]
    d1sq = r[None, :, None] ** 2 * q[None, None, :]  # delta_1^T S delta_1, [1, R, A]
    ratio = (w1 / w2)[:, None, None]
    d2sq = ratio ** 2 * d1sq
    feasible = (ratio.abs() * r[None, :, None] <= 1 + 1e-12).expand(-1, -1, len(ang))
    value = w1[:, None, None] * d1sq + w2[:, None, None] * d2sq
    return float(value[feasible].min())


def _feasible_minimum(S: torch.Tensor, m: int, c: float, restarts: int = 32, steps: int = 400) -> float:
    """Minimise sum_j w_j delta_j^T S delta_j over m copies by gradient descent from random starts, over a
    parametrisation whose every point is EXACTLY feasible and which reaches every feasible point: restart r has
    k = r mod m negative copies; masses (1 + c')/2 and (1 - c')/2 with c' in [1, c], split by softmaxes; directions
    centred (sum w delta = 0), then scaled into the unit ball."""
    g = torch.Generator().manual_seed(0)
    neg = torch.arange(m)[None, :] >= m - (torch.arange(restarts) % m)[:, None]
    has_neg = neg.any(1, keepdim=True)
    z = torch.randn(restarts, generator=g, dtype=torch.float64).requires_grad_()
    a = torch.randn(restarts, m, generator=g, dtype=torch.float64).requires_grad_()
    u = torch.randn(restarts, m, S.shape[0], generator=g, dtype=torch.float64).requires_grad_()
    opt = torch.optim.Adam([z, a, u], lr=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def value() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cp = (1 + (c - 1) * torch.sigmoid(z))[:, None]
        pos = torch.softmax(a.masked_fill(neg, -torch.inf), 1) * (1 + cp) / 2
        negw = torch.softmax(a.masked_fill(~neg, -torch.inf), 1).nan_to_num() * (1 - cp) / 2
        w = torch.where(has_neg, torch.where(neg, negw, pos), torch.softmax(a, 1))
        delta = u - (w[..., None] * u).sum(1, keepdim=True)
        delta = delta / delta.norm(dim=-1).amax(1).clamp_min(1.0)[:, None, None]
        return (w * torch.einsum("rjd,de,rje->rj", delta, S, delta)).sum(1), w, delta

    for _ in range(steps):
        obj = value()[0]
        opt.zero_grad()
        obj.sum().backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        obj, w, delta = value()
    assert torch.allclose(w.sum(1), torch.ones(restarts, dtype=torch.float64))
    assert (w.abs().sum(1) <= c + 1e-12).all() and (delta.norm(dim=-1) <= 1 + 1e-12).all()
    assert (w[..., None] * delta).sum(1).abs().max() < 1e-12
    return float(obj.min())


def _random_S(case: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(10 + case)
    A = torch.randn(2, 2, generator=g, dtype=torch.float64)
    return A @ A.T - (1.0 if case % 2 else 0.2) * torch.eye(2, dtype=torch.float64)  # indefinite or definite


@pytest.mark.parametrize("case", range(4))
def test_closed_forms_against_brute_force(case):
    S = _random_S(case)
    c = (1.5, 2.0, 3.0, 4.0)[case]
    ev, vecs = torch.linalg.eigh(S)
    lmin, lmax = ev[:1], ev[-1:]
    k = (c - 1) / (c + 1)
    g2 = float(descent_values(lmin, lmax, "s3d2", c))
    g4 = float(descent_values(lmin, lmax, "s3d4", c))
    assert g2 == pytest.approx(min(float(lmin), -k * float(lmax)))
    assert g4 == pytest.approx((c + 1) / 2 * min(float(lmin), 0) - (c - 1) / 2 * max(float(lmax), 0))
    assert float(descent_values(lmin, lmax, "s2d", c)) == pytest.approx(float(lmin))
    scale = float(ev.abs().max())
    # 2 copies: an exhaustive grid attains G_2 and never beats it
    brute2 = _brute_force_two_copies(S, c)
    assert g2 - 1e-9 <= brute2 <= g2 + 2e-3 * scale
    # the constructed copies are feasible and attain G exactly
    from lso.growth.splitting import Eigenpairs
    pairs = Eigenpairs(lmin, lmax, vecs[:, :1].T, vecs[:, -1:].T, torch.zeros(1))
    for rule, target in (("s3d2", g2), ("s3d4", g4), ("s2d", float(lmin))):
        (sp,) = neuron_splits("n", pairs, rule, c)
        w = torch.tensor(sp.weights, dtype=torch.float64)
        assert float(w.sum()) == pytest.approx(1.0)
        assert float(w.abs().sum()) <= c + 1e-12
        assert float(sp.directions.norm(dim=1).max()) <= 1 + 1e-12
        assert float((w[:, None] * sp.directions).sum(0).norm()) < 1e-12
        if rule != "s2d" or target < 0:
            assert split_value(S, sp) == pytest.approx(min(target, 0.0), abs=1e-12)


@pytest.mark.parametrize("case", [0, 3])
def test_signed_forms_are_the_minima_found_by_optimisation(case):
    S = _random_S(case)
    c = (1.5, 2.0, 3.0, 4.0)[case]
    ev = torch.linalg.eigvalsh(S)
    scale = float(ev.abs().max())
    g4 = float(descent_values(ev[:1], ev[-1:], "s3d4", c))
    g2 = float(descent_values(ev[:1], ev[-1:], "s3d2", c))
    assert g4 - 1e-9 <= _feasible_minimum(S, 4, c) <= g4 + 2e-2 * scale
    assert g2 - 1e-9 <= _feasible_minimum(S, 2, c, restarts=16) <= g2 + 2e-2 * scale
    assert g4 < g2 < 0


def test_second_order_agreement_conv_with_batchnorm(cnn64):
    net, x, y = cnn64
    stats = _stats(net, x, y)
    base = F.cross_entropy(net(x), y).item()
    for rule in ("s2d", "s3d2", "s3d4"):
        for name, st in stats.items():
            pairs = eigenpairs_exact(splitting_matrices(st))
            sp = min(neuron_splits(name, pairs, rule, 2.0), key=lambda s: s.value)
            errs = []
            for eps in (1e-2, 1e-3):
                m = copy.deepcopy(net)
                apply_splits(m, net.sites(), [sp], eps)
                change = F.cross_entropy(m(x), y).item() - base
                errs.append(abs(change / (eps ** 2 / 2) - sp.value) / abs(sp.value))
            assert errs[1] < 1e-3 and errs[1] < errs[0] / 5, (rule, name, errs)  # O(eps) relative error


def test_s3d_descends_where_s_is_positive_definite_and_s2d_cannot():
    """A softplus neuron whose loss gradient g is positive on every sample: S = E[g sigma'' x x^T] is positive
    definite, so S2D has no descending split; S3D's negative copy uses lambda_max and the loss goes down."""
    torch.manual_seed(3)
    net = SmallMLP(3, (4, 3), 1, "softplus").double()
    with torch.no_grad():
        net.out.weight.fill_(1.0)  # every hidden unit feeds the output positively ...
        net.fc2.weight.abs_()
    x = torch.randn(64, 3, dtype=torch.float64)
    y = torch.full((64, 1), -10.0, dtype=torch.float64)  # ... and predictions sit far above the targets: g > 0
    loss = F.mse_loss
    st = collect_statistics(net, net.sites(), [(x, y)], loss, second_derivative_of(net.act1))["fc2"]
    S = splitting_matrices(st)
    pairs = eigenpairs_exact(S)
    assert (pairs.lambda_min > 0).all()  # positive definite for every neuron of fc2
    s2d = neuron_splits("fc2", pairs, "s2d")
    assert all(s.value > 0 for s in s2d)
    costs = cost_model(net, net.sites(), x)
    assert select_greedy(s2d, costs, costs.base["params"] + 1000).splits == ()  # nothing worth splitting
    base = loss(net(x), y).item()
    for rule, c in (("s3d2", 2.0), ("s3d4", 3.0)):
        s3d = neuron_splits("fc2", pairs, rule, c)
        best = min(s3d, key=lambda s: s.value)
        assert best.value < 0 and min(best.weights) < 0
        for eps, tol in ((1e-2, 2e-2), (1e-3, 2e-3)):
            m = copy.deepcopy(net)
            apply_splits(m, net.sites(), [best], eps)
            change = loss(m(x), y).item() - base
            assert change < 0
            assert change / (eps ** 2 / 2) == pytest.approx(best.value, rel=tol)
        # and the S2D split of the same neuron along v_min increases the loss
        m = copy.deepcopy(net)
        apply_splits(m, net.sites(), [s2d[best.neuron]], 1e-2)
        assert loss(m(x), y).item() > base


def test_bad_input_gives_clear_errors(cnn64):
    net, x, y = cnn64
    with pytest.raises(SplittingError, match="unknown splitting rule 'xyz'"):
        descent_values(torch.zeros(1), torch.zeros(1), "xyz")
    with pytest.raises(SplittingError, match="c must be >= 1"):
        descent_values(torch.zeros(1), torch.zeros(1), "s3d2", 0.5)
    stats = _stats(net, x, y)
    with pytest.raises(SplittingError, match="unknown eigenpair route"):
        site_eigenpairs(stats["conv1"], "lanczos")
    from lso.growth.sites import Consumer, NeuronSite
    bad = NeuronSite("c", "conv9", "act1", (Consumer("conv2"),), norm="bn1")
    with pytest.raises(SplittingError, match="'conv9' is not a module"):
        collect_statistics(net, [bad], [(x, y)], F.cross_entropy, second_derivative_of(net.act1))
    wrong = NeuronSite("c", "conv1", "act1", (Consumer("fc"),), norm="bn1")
    with pytest.raises(SplittingError, match="consumer 'fc' has 20 inputs"):
        collect_statistics(net, [wrong], [(x, y)], F.cross_entropy, second_derivative_of(net.act1))
    with pytest.raises(SplittingError, match="in-place"):
        net.act1 = nn.ReLU(inplace=True)
        collect_statistics(net, net.sites(), [(x, y)], F.cross_entropy, second_derivative_of(net.act1))
    sp = NeuronSplit("conv1", 0, (0.7, 0.7), torch.zeros(2, 18, dtype=torch.float64), -1.0)
    net.act1 = nn.Softplus()
    with pytest.raises(SplittingError, match="sum to 1.4"):
        apply_splits(net, net.sites(), [sp])
