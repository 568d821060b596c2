"""Discriminators: PatchGAN receptive field, multi-scale and DCGAN outputs, spectral norm, round trips."""

from __future__ import annotations

import pytest
import torch

from stylefuse.registry import NETWORKS
from tests.helpers import check_network_round_trip

# name -> (small config, input or a tuple of inputs)
CASES = {
    "patch_discriminator": (dict(base=8), torch.rand(2, 3, 70, 70)),
    "multiscale_discriminator": (dict(base=8, scales=2), torch.rand(1, 3, 64, 64)),
    "dcgan_discriminator": (dict(size=32, base=8), torch.rand(3, 3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)


def test_patchgan_sees_70_pixels() -> None:
    network = NETWORKS.create("patch_discriminator", base=4, norm="none")  # instance norm is global
    x = torch.rand(1, 3, 140, 140, requires_grad=True)
    network(x)[0, 0, 5, 5].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3)))
    assert rows.max() - rows.min() + 1 == 70



def test_dcgan_discriminator_has_one_output_per_image() -> None:
    assert NETWORKS.create("dcgan_discriminator", size=64, base=4)(torch.rand(2, 3, 64, 64)).shape == (2,)


def test_spectral_norm_is_applied_on_request() -> None:
    spectral = NETWORKS.create("patch_discriminator", base=4, spectral=True)
    assert any("parametrizations" in name for name, _ in spectral.named_modules())
