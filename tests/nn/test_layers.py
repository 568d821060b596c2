"""Layers: instance norm of constant maps, norms, weight initialisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylefuse.nn.generators import ResnetGenerator
from stylefuse.nn.layers import NORMS, InstanceNorm2d, init_weights, norm_layer


def test_instance_norm_of_a_constant_map_is_zero_with_a_finite_gradient() -> None:
    torch.manual_seed(0)
    generator = ResnetGenerator(base=4, blocks=6)  # 17 norm layers: plain instance norm overflows float32 here
    generator(torch.ones(1, 3, 32, 32)).square().mean().backward()
    largest = max(p.grad.abs().max() for p in generator.parameters())
    assert torch.isfinite(largest) and largest < 1e3
    norm, varying = InstanceNorm2d(3, affine=True), torch.randn(2, 3, 8, 8)
    nn.init.normal_(norm.weight)
    expected = nn.functional.instance_norm(varying, weight=norm.weight, bias=norm.bias)
    assert torch.allclose(norm(varying), expected, atol=1e-5)
    constant = torch.full((1, 3, 8, 8), 0.37)
    assert torch.equal(norm(constant), norm.bias.detach()[None, :, None, None].expand(1, 3, 8, 8))


def test_instance_norm_keeps_large_maps_in_half_precision() -> None:
    """Regression: statistics taken in float16 overflowed (mean² past 65504) and zeroed real maps."""
    x = (300 + 10 * torch.randn(1, 2, 16, 16, generator=torch.Generator().manual_seed(0))).half()
    y = InstanceNorm2d(2)(x)
    expected = nn.functional.instance_norm(x.float())
    assert torch.allclose(y.float(), expected, atol=2e-2) and y.abs().max() > 1


def test_norms_inits_and_errors() -> None:
    assert set(NORMS) >= {"instance", "batch", "none"}
    assert isinstance(norm_layer("batch", 4), torch.nn.BatchNorm2d)
    with pytest.raises(ValueError, match="unknown norm"):
        norm_layer("group", 4)
    for scheme in ("normal", "xavier", "kaiming"):
        layer = init_weights(torch.nn.Conv2d(64, 64, 3), scheme)
        assert layer.bias.abs().max() == 0
    normal = init_weights(torch.nn.Conv2d(64, 64, 3), "normal", 0.02)
    assert abs(normal.weight.std().item() - 0.02) < 0.002
