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


@pytest.mark.parametrize("method", ["adain", "wct"])
def test_no_band_on_a_synthetic_sky(method, small_style) -> None:
    photo = sky_photo(128)
    assert_no_band(photo, stylized(method, photo, small_style), rows=48)


MARGIN = 32
"""Pixels of mirrored canvas around the photo that put its border out of the fast network's reach."""


def test_the_border_adds_no_band_to_the_fast_network_on_a_synthetic_sky() -> None:
    """The fast network's band on the 128 px sky is measured against the same stylization made on the sky
    mirrored by :data:`MARGIN` pixels on every side and cropped back. Its response to the sky and the
    horizon at this size moves the outer strips by up to the tolerance (about 0.02 for two styles) whether the
    border is there or 32 px away, so what the border itself adds is the difference: under 0.01 of luminance
    (the strongest of the refined named styles add 0.008, under 3 of 255 levels). (adain and wct whiten
    with the whole picture's statistics, which a mirrored canvas changes; they keep the test above.)"""
    photo = sky_photo(128)
    canvas = ops.reflect_border(photo[None], MARGIN)[0]
    far = [result[:, MARGIN:-MARGIN, MARGIN:-MARGIN] for result in stylized("fast", canvas, None)]
    effects = [border_band(near, 48) - border_band(away, 48) for near, away in zip(stylized("fast", photo, None), far)]
    assert max(map(abs, effects)) <= TOLERANCE / 2, effects


def test_the_synthetic_sky_shows_the_band_without_the_border(small_style) -> None:
    photo = sky_photo(128)
    band = border_band(stylized("adain", photo, small_style, border=0)[0], rows=48)
    assert abs(band) > abs(border_band(photo, rows=48)) + 2 * TOLERANCE


def bench_sky(bench) -> tuple[torch.Tensor, int]:
    """The bench photo with the widest sky at 256 px, and the rows the band test reads (its top 40 %)."""
    photo = ops.resize_long_side(read_image(bench / "content" / "landscape_storm_road.jpg").rgb, 256).clamp(0, 1)
    return photo, photo.shape[-2] * 2 // 5


def test_no_band_from_the_fast_network_on_a_bench_photo_with_sky(bench) -> None:
    photo, rows = bench_sky(bench)
    assert_no_band(photo, stylized("fast", photo, None), rows=rows)


@pytest.mark.parametrize("method", ["adain", "wct"])
def test_the_border_adds_no_band_to_adain_and_wct_on_a_bench_photo_with_sky(method, bench, small_style) -> None:
    """This photo's sky is not flat (its outer 16 px are 0.05 brighter than the next 16), and the stylizations
    keep or sharpen that gradient: with the relu4_1 inverter fine-tuned on the training photos adain's top strip
    is 0.073 brighter, 0.070 when the border is 32 px away on a mirrored canvas and 0.078 with twice the mirrored
    border inside the method. So what the border adds is the band on the photo minus the band on the mirrored
    canvas, cropped back."""
    photo, rows = bench_sky(bench)
    canvas = ops.reflect_border(photo[None], MARGIN)[0]
    near = stylized(method, photo, small_style)[0]
    far = stylized(method, canvas, small_style)[0][:, MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert abs(border_band(near, rows) - border_band(far, rows)) <= TOLERANCE
