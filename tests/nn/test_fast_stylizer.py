"""The multi-style network: shapes, conditional norm mixing, input checks."""

from __future__ import annotations

import pytest
import torch

from stylefuse.nn.fast_stylizer import ConditionalInstanceNorm2d, FastStylizerNet


def test_output_shape_and_range() -> None:
    net = FastStylizerNet(num_styles=3).eval()
    out = net(torch.rand(2, 3, 32, 48), torch.eye(3)[:2])
    assert out.shape == (2, 3, 32, 48)
    assert 0 <= out.min() and out.max() <= 1


def test_a_one_dimensional_style_vector_is_broadcast_over_the_batch() -> None:
    net = FastStylizerNet(num_styles=2).eval()
    images = torch.rand(2, 3, 16, 16)
    assert torch.allclose(net(images, torch.tensor([0.0, 1.0])), net(images, torch.tensor([[0.0, 1.0]] * 2)))


def test_conditional_norm_mixes_the_parameters_of_the_styles_linearly() -> None:
    norm = ConditionalInstanceNorm2d(4, num_styles=2)
    with torch.no_grad():
        norm.gamma.copy_(torch.tensor([[1.0] * 4, [3.0] * 4]))
        norm.beta.copy_(torch.tensor([[0.0] * 4, [2.0] * 4]))
    x = torch.randn(1, 4, 8, 8)
    normalised = torch.nn.functional.instance_norm(x)
    mixed = norm(x, torch.tensor([[0.5, 0.5]]))
    assert torch.allclose(mixed, normalised * 2.0 + 1.0, atol=1e-5)


def test_styles_differ_only_in_their_norm_parameters() -> None:
    net = FastStylizerNet(num_styles=2)
    norm_ids = {id(p) for p in net.norm_parameters()}
    shapes = [p.shape for p in net.parameters() if id(p) in norm_ids]
    assert all(shape[0] == 2 for shape in shapes)
    assert sum(p.numel() for p in net.norm_parameters()) < 0.05 * sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("shape, style, message", [
    ((1, 3, 30, 32), (1, 2), "multiples of 8"),
    ((1, 1, 32, 32), (1, 2), "expected images"),
    ((1, 3, 32, 32), (1, 3), "style weights must be"),
])
def test_bad_inputs_are_refused(shape, style, message) -> None:
    with pytest.raises(ValueError, match=message):
        FastStylizerNet(num_styles=2)(torch.rand(shape), torch.rand(style))
