"""The pointillism filter: deterministic per seed, pastel dots of the photo's colour."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylefuse.image.pointillism import pointillism
from stylefuse.metrics.content import psnr


def test_pointillism_is_deterministic_and_draws_pastel_dots_of_the_photo_colour() -> None:
    image = torch.zeros(3, 64, 64)
    image[0] = 0.8  # red
    a, b, c = pointillism(image, seed=1), pointillism(image, seed=1), pointillism(image, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == image.shape and 0 <= a.min() and a.max() <= 1
    red_dots = (a[0] > 0.8) & (a[0] - a[1] > 0.4)
    canvas = a.min(0).values > 0.8
    assert red_dots.float().mean() > 0.85 and 0 < canvas.float().mean() < 0.15  # overlapping dots, canvas between
    assert 0.15 < a[1][red_dots].mean() < 0.35  # pastel: white mixed in (lift 0.25), no pure pigment


def test_pointillism_random_part_is_small_against_its_deterministic_part() -> None:
    """Two draws of the filter are closer to each other than the photo is to either, so a learner of the
    filter can beat the identity baseline (benchmarks/gan_pointillism.py)."""
    torch.manual_seed(0)
    photo = F.interpolate(torch.rand(1, 3, 8, 8), size=(64, 64), mode="bilinear", align_corners=False)[0]
    first, second = pointillism(photo, seed=1), pointillism(photo, seed=2)
    assert _psnr(first, second) > _psnr(photo, first) + 1.0  # measured 16.3 vs 14.5 dB


def test_pointillism_refuses_an_even_colour_blur() -> None:
    with pytest.raises(ValueError, match="odd number of pixels"):
        pointillism(torch.rand(3, 16, 16), colour_blur=4)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(psnr(a[None], b[None])[0])
