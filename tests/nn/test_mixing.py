"""The weights of an output-space ensemble: a weighted mean of member outputs, saved as a network."""

from __future__ import annotations

import pytest
import torch

from stylefuse.registry import NETWORKS
from tests.helpers import check_network_round_trip

# name -> (small config, input)
CASES = {"member_weights": (dict(members=3), torch.rand(3, 3, 16, 16))}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)


def test_the_output_is_the_weighted_mean_of_the_members() -> None:
    network = NETWORKS.create("member_weights", members=2)
    network.weights.copy_(torch.tensor([0.25, 0.75]))
    outputs = torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)])
    assert torch.allclose(network(outputs), torch.full((3, 4, 4), 0.75))
    with pytest.raises(ValueError, match="expected 2 member outputs, got 3"):
        network(torch.rand(3, 3, 4, 4))
