"""lso.nets.replicas: K seeds of one cell trained at once are K independent networks."""

from __future__ import annotations

import pytest
import torch

from lso.data.datasets import load_dataset
from lso.nets.network import Network, count_params
from lso.nets.protocol import ProtocolError, get_protocol
from lso.nets.replicas import train_replicas
from lso.space import MacroConfig

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
MACRO = MacroConfig(channels=4, cells_per_stage=1, num_classes=5, in_channels=2, input_size=16)


def _load_copies(grouped: Network, singles: list[Network]) -> None:
    """Put each single network's weights (and batch-norm statistics) into its slice of the grouped one."""
    state = grouped.state_dict()
    for name, value in state.items():
        if value.dim() == 0:
            continue
        parts = [s.state_dict()[name] for s in singles]
        state[name] = torch.cat([p.reshape(-1, *value.shape[1:]) for p in parts], dim=0)
    grouped.load_state_dict(state)


@pytest.mark.parametrize("dims", [1, 2])
def test_a_grouped_network_computes_each_copy_as_its_own_network(dims: int) -> None:
    torch.manual_seed(0)
    singles = [Network(ARCH, MACRO, dims=dims) for _ in range(3)]
    grouped = Network(ARCH, MACRO, dims=dims, replicas=3)
    assert count_params(grouped) == 3 * count_params(singles[0])
    _load_copies(grouped, singles)
    shape = (6, MACRO.in_channels) + (MACRO.input_size,) * dims
    inputs = [torch.randn(shape) for _ in singles]  # every copy gets its own batch
    for mode in ("train", "eval"):
        for net in (grouped, *singles):
            getattr(net, mode)()
        out = grouped(torch.cat(inputs, dim=1))
        assert out.shape == (6, 3, MACRO.num_classes)
        for k, net in enumerate(singles):
            torch.testing.assert_close(out[:, k], net(inputs[k]), rtol=1e-4, atol=1e-5)


def test_a_copys_loss_reaches_only_its_own_weights() -> None:
    torch.manual_seed(1)
    grouped = Network(ARCH, MACRO, dims=1, replicas=2)
    grouped(torch.randn(4, 2 * MACRO.in_channels, MACRO.input_size))[:, 0].sum().backward()
    weight = grouped.classifier.weight  # [2 * classes, C, 1]: copy 1's rows get no gradient from copy 0's loss
    assert weight.grad[MACRO.num_classes:].abs().max() == 0 and weight.grad[: MACRO.num_classes].abs().max() > 0
    stem = grouped.stem[0].weight
    assert stem.grad[stem.shape[0] // 2:].abs().max() == 0


def test_train_replicas_gives_one_reproducible_result_per_seed() -> None:
    protocol = get_protocol("digits-fast").with_(epochs=1, train_samples=64)
    data = load_dataset("digits")
    first = train_replicas(ARCH, protocol, data, (3, 4, 5))
    again = train_replicas(ARCH, protocol, data, (3, 4, 5))
    assert [r.seed for r in first] == [3, 4, 5]
    assert [r.valid_acc for r in first] == [r.valid_acc for r in again]
    assert len({r.valid_acc for r in first}) > 1  # different initial weights and batch orders per copy
    single = Network(ARCH, data.macro(protocol.channels, protocol.cells_per_stage), dims=data.spatial_dims)
    assert all(r.params == count_params(single) and 0 <= r.test_acc <= 100 for r in first)
    with pytest.raises(ProtocolError, match="distinct seeds"):
        train_replicas(ARCH, protocol, data, (1, 1))
