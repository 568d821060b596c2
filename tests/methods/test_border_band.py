"""No band along the image border (issue 20 §4): on a flat sky, the outermost 16 px of a result are no
brighter or darker against the next 16 px than they are in the photo itself, for adain, wct and fast."""

from __future__ import annotations

import pytest
import torch

from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods.adain import AdaINStylizer
from stylefuse.methods.fast import FastStylizer
from stylefuse.methods.wct import WCTStylizer
from tests.helpers import border_band, feature_stylizer, sky_photo

TOLERANCE = 0.02
"""Luminance (0..1). Without the mirrored border adain's band on the synthetic sky is 0.08-0.12."""


def stylized(method: str, photo: torch.Tensor, style: torch.Tensor, **options) -> list[torch.Tensor]:
    """The photo stylized by ``method``: with ``style`` for adain and wct, with every built-in style for fast."""
    if method == "fast":
        fast = FastStylizer(backend="torch")
        return [fast.stylize(photo, [name]) for name in fast.names]
    cls = AdaINStylizer if method == "adain" else WCTStylizer
    return [feature_stylizer(cls, **options).stylize(photo, [style])]


def assert_no_band(photo: torch.Tensor, results: list[torch.Tensor], rows: int) -> None:
    allowed = abs(border_band(photo, rows)) + TOLERANCE
    bands = [border_band(result, rows) for result in results]
    assert max(map(abs, bands)) <= allowed, f"border bands {bands}, photo's {border_band(photo, rows):+.4f}"


@pytest.mark.parametrize("method", ["adain", "wct", "fast"])
def test_no_band_on_a_synthetic_sky(method, small_style) -> None:
    photo = sky_photo(128)
    assert_no_band(photo, stylized(method, photo, small_style), rows=48)


def test_the_synthetic_sky_shows_the_band_without_the_border(small_style) -> None:
    photo = sky_photo(128)
    band = border_band(stylized("adain", photo, small_style, border=0)[0], rows=48)
    assert abs(band) > abs(border_band(photo, rows=48)) + 2 * TOLERANCE


@pytest.mark.parametrize("method", ["adain", "wct", "fast"])
def test_no_band_on_a_bench_photo_with_sky(method, bench, small_style) -> None:
    photo = ops.resize_long_side(read_image(bench / "content" / "landscape_storm_road.jpg").rgb, 256).clamp(0, 1)
    assert_no_band(photo, stylized(method, photo, small_style), rows=photo.shape[-2] * 2 // 5)
