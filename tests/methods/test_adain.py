"""AdaIN: its per-channel affine map, blends of styles, the strength option."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.methods.adain import AdaINStylizer
from tests.helpers import feature_stylizer, stripes_image, wavy_photo


def test_a_blend_lies_between_its_styles() -> None:
    photo, stripes, red = wavy_photo(), stripes_image(), torch.zeros(3, 64, 64)
    red[0] = 0.9
    stylizer = feature_stylizer(AdaINStylizer)
    only_red = stylizer.stylize(photo, [stripes, red], [0.0, 1.0])
    blend = stylizer.stylize(photo, [stripes, red], [0.5, 0.5])
    only_stripes = stylizer.stylize(photo, [stripes, red], [1.0, 0.0])
    redness = [image[0].mean() - image[1:].mean() for image in (only_stripes, blend, only_red)]
    assert redness[0] < redness[1] < redness[2]


def test_strength_out_of_range_is_refused() -> None:
    with pytest.raises(OptionError, match="^strength must be between 0 and 1, got 1.5$"):
        AdaINStylizer(strength=1.5)
    with pytest.raises(TypeError):
        AdaINStylizer(alpha=0.5)  # the old name is gone: one meaning per option name
    assert not hasattr(AdaINStylizer, "strength_option")


def test_its_affine_gives_the_content_features_the_style_channel_statistics() -> None:
    from stylefuse.nn.feature_transforms import apply_affine, feature_stats
    from stylefuse.registry import METHODS

    generator = torch.Generator().manual_seed(0)
    content = torch.randn(1, 8, 16, 16, generator=generator, dtype=torch.float64)
    style = 3 * torch.randn(1, 8, 12, 12, generator=generator, dtype=torch.float64) + torch.arange(8.0).view(1, 8, 1, 1)
    scale, bias = AdaINStylizer().affine(feature_stats(content), feature_stats(style))
    assert scale.shape == bias.shape == (8,)
    moved = apply_affine(content, scale, bias)
    torch.testing.assert_close(moved.mean(dim=(0, 2, 3)), style.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(moved.std(dim=(0, 2, 3), unbiased=False), style.std(dim=(0, 2, 3), unbiased=False),
                               rtol=1e-3, atol=1e-3)
    assert AdaINStylizer.levels == ("relu4_1",) and METHODS.get("adain") is AdaINStylizer
