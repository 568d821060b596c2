"""The VGG16 feature inverter: shapes and a round trip through a model folder."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import check_network_round_trip

# name -> (small config, input or a tuple of inputs)
CASES = {
    "vgg16_inverter": (dict(level="relu3_1", width=0.25), torch.rand(2, 256, 8, 8) * 100),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)



