"""The multi-style network: shapes, conditional norm mixing, input checks."""

from __future__ import annotations

import pytest
import torch

from stylefuse.nn.fast_stylizer import (
    ConditionalChannelMix,
    ConditionalColourMap,
    ConditionalInstanceNorm2d,
    FastStylizerNet,
)
from tests.helpers import check_network_round_trip


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


def test_styles_differ_only_in_their_style_tables() -> None:
    net = FastStylizerNet(num_styles=2)
    tables = net.style_parameters()
    assert all(table.shape[0] == 2 for table in tables.values())
    assert "colour.offset" in tables and sum(name.endswith(".gamma") for name in tables) == 3 + 2 * 5 + 2
    assert [tables[f"mixes.{i}.offset"].shape[1:] for i in range(3)] == [(64, 64), (32, 32), (16, 16)]
    assert sum(p.numel() for p in tables.values()) < 0.05 * sum(p.numel() for p in net.parameters())


def test_colour_map_starts_as_the_identity_and_mixes_the_styles_linearly() -> None:
    colour = ConditionalColourMap(num_styles=2)
    logits = torch.randn(1, 3, 4, 4)
    assert torch.equal(colour(logits, torch.tensor([[1.0, 0.0]])), logits)
    swap = torch.tensor([[0.0, 1, 0, 0.5], [1, 0, 0, 0], [0, 0, 2, -1]])
    with torch.no_grad():
        colour.offset[1] = (swap - torch.eye(3, 4)) / colour.SCALE
    swapped = torch.stack([logits[0, 1] + 0.5, logits[0, 0], 2 * logits[0, 2] - 1])[None]
    assert torch.allclose(colour(logits, torch.tensor([[0.0, 1.0]])), swapped, atol=1e-6)
    assert torch.allclose(colour(logits, torch.tensor([[0.5, 0.5]])), (logits + swapped) / 2, atol=1e-6)
    assert torch.allclose(colour(logits, torch.tensor([[1.0, 1.0]])), logits + swapped, atol=1e-6)  # like (γ, β)


def test_channel_mix_starts_as_the_identity_and_mixes_the_styles_linearly() -> None:
    mix = ConditionalChannelMix(2, num_styles=2)
    x = torch.randn(1, 2, 4, 4)
    assert torch.equal(mix(x, torch.tensor([[0.3, 0.7]])), x)
    with torch.no_grad():
        mix.offset[1] = torch.tensor([[0.0, 1.0], [-1.0, 0.0]]) / mix.SCALE  # adds (x1, -x0)
    added = torch.stack([x[0, 1], -x[0, 0]])[None]
    assert torch.allclose(mix(x, torch.tensor([[0.0, 1.0]])), x + added, atol=1e-6)
    assert torch.allclose(mix(x, torch.tensor([[0.5, 0.5]])), x + added / 2, atol=1e-6)


def test_a_model_saved_before_the_colour_map_and_channel_mixes_loads_with_identity_maps() -> None:
    torch.manual_seed(0)
    old = FastStylizerNet(num_styles=3).eval()
    state = {k: v for k, v in old.state_dict().items() if not k.endswith(".offset")}
    new = FastStylizerNet(num_styles=3).eval()
    with torch.no_grad():
        for table in new.style_parameters().values():
            table.normal_()
    new.load_state_dict(state)
    images, style = torch.rand(2, 3, 16, 16), torch.tensor([0.2, 0.0, 0.8])
    assert not any(new.state_dict()[k].any() for k in new.state_dict() if k.endswith(".offset"))
    assert torch.equal(new(images, style), old(images, style))


@pytest.mark.parametrize("shape, style, message", [
    ((1, 3, 30, 32), (1, 2), "multiples of 8"),
    ((1, 1, 32, 32), (1, 2), "expected images"),
    ((1, 3, 32, 32), (1, 3), "style weights must be"),
])
def test_bad_inputs_are_refused(shape, style, message) -> None:
    with pytest.raises(ValueError, match=message):
        FastStylizerNet(num_styles=2)(torch.rand(shape), torch.rand(style))


# name -> (small config, input or a tuple of inputs)
CASES = {
    "fast_stylizer": (dict(num_styles=2, channels=[4, 8, 8], blocks=1), (torch.rand(2, 3, 32, 48), torch.eye(2))),
    "style_predictor": (dict(outputs=12, layers=["relu1_2", "relu2_2"], channels=[64, 128], hidden=8, bottleneck=4),
                        torch.rand(2, 2 * (64 + 128))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)



