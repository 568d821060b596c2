"""The gate over K members: shapes, weights that sum to 1 at every pixel, the uniform blend before training."""

from __future__ import annotations

import pytest
import torch

from stylefuse.registry import NETWORKS
from tests.helpers import check_network_round_trip

# name -> (small config, inputs)
CASES = {"member_gate": (dict(members=3, channels=4, layers=2),
                         (torch.rand(2, 3, 20, 28), torch.rand(2, 3, 3, 20, 28)))}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)


@pytest.mark.parametrize("size", [(50, 70), (5, 3), (64, 64)])
def test_weights_are_per_pixel_and_sum_to_one(size) -> None:
    torch.manual_seed(0)
    gate = NETWORKS.create("member_gate", members=3, channels=8, layers=3)
    torch.nn.init.normal_(gate.head.weight)  # a trained gate: not the uniform start
    photo, outputs = torch.rand(2, 3, *size), torch.rand(2, 3, 3, *size)
    weights = gate.weights(photo, outputs)
    assert weights.shape == (2, 3, *size) and weights.min() >= 0
    torch.testing.assert_close(weights.sum(1), torch.ones(2, *size))
    assert weights.std(dim=(2, 3)).max() > 0  # it varies across the picture
    mixed = gate(photo, outputs)
    torch.testing.assert_close(mixed, (weights[:, :, None] * outputs).sum(1))


def test_an_untrained_gate_is_the_uniform_blend_and_bad_inputs_are_refused() -> None:
    gate = NETWORKS.create("member_gate", members=2)
    photo, outputs = torch.rand(1, 3, 32, 32), torch.rand(1, 2, 3, 32, 32)
    torch.testing.assert_close(gate(photo, outputs), outputs.mean(1))
    with pytest.raises(ValueError, match="expected outputs"):
        gate(photo, torch.rand(1, 3, 3, 32, 32))
    with pytest.raises(ValueError, match="members >= 2"):
        NETWORKS.create("member_gate", members=1)
