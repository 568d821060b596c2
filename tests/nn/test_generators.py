"""Generators: ResNet, U-Net (depth from the crop size) and DCGAN."""

from __future__ import annotations

import pytest
import torch

from stylefuse.nn.generators import unet_depth
from stylefuse.registry import NETWORKS
from tests.helpers import check_network_round_trip


def test_unet_depth_fits_the_crop_size() -> None:
    assert [unet_depth(size) for size in (32, 36, 64, 100, 128, 256, 512)] == [5, 2, 6, 2, 7, 8, 8]


# name -> (small config, input or a tuple of inputs)
CASES = {
    "resnet_generator": (dict(blocks=2, base=8), torch.rand(2, 3, 32, 48) * 2 - 1),
    "unet_generator": (dict(depth=5, base=8), torch.rand(2, 3, 64, 32) * 2 - 1),
    "dcgan_generator": (dict(size=32, base=8, latent=16), torch.randn(3, 16)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)


def test_dcgan_generator_output_size() -> None:
    assert NETWORKS.create("dcgan_generator", size=64, base=4)(torch.randn(2, 100)).shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="power of two"):
        NETWORKS.create("dcgan_generator", size=48)


def test_unet_refuses_sizes_that_are_not_multiples_of_its_stride() -> None:
    with pytest.raises(ValueError, match="multiples"):
        NETWORKS.create("unet_generator", depth=5, base=4)(torch.rand(1, 3, 40, 40))
