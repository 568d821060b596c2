"""AdaIN: blends of styles, the strength option."""

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
