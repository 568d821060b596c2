"""Style metrics: orderings that must hold under noise and after a stylization."""

from __future__ import annotations

import pytest

from stylefuse.registry import METRICS
from tests.helpers import disc_photo, noisy_copy

STYLE_METRICS = ("inception_gram", "inception_mean_std", "color_histogram")


@pytest.mark.parametrize("name", STYLE_METRICS)
def test_more_noise_is_further_from_the_style(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    scores = [metric(noisy_copy(image, amount), image, image) for amount in (0.05, 0.3)]
    assert scores[0] < scores[1]


def test_a_stylized_image_is_closer_in_style_to_its_painting_than_to_its_photo() -> None:
    from pathlib import Path

    from stylefuse.image import ops
    from stylefuse.image.io import read_image
    from stylefuse.methods.gatys import GatysStylizer

    examples = Path(__file__).resolve().parents[2] / "examples"
    painting = ops.resize_long_side(read_image(examples / "swirls.png").rgb, 128).clamp(0, 1)
    photo = ops.resize_long_side(read_image(examples / "coffee.jpg").rgb, 128).clamp(0, 1)
    result = GatysStylizer(size=128, steps=30, levels=1, style_weight=30.0).stylize(photo, [painting])
    for name in ("inception_gram", "inception_mean_std"):  # colours: Gatys starts from the photo's
        metric = METRICS.create(name)
        assert metric(result, photo, painting) < metric(result, photo, photo), name
