"""Laplacian-pyramid parameterisation: exact round trip, band sizes, and what the bands hold."""

from __future__ import annotations

import pytest
import torch

from stylefuse.image import laplacian


@pytest.mark.parametrize("gain", [1.0, 0.7])
@pytest.mark.parametrize("shape, sizes", [((1, 3, 48, 64), [(48, 64), (24, 32), (12, 16), (6, 8)]),
                                          ((2, 3, 37, 41), [(37, 41), (19, 21), (10, 11), (5, 6)])])
def test_synthesize_inverts_decompose(shape: tuple[int, ...], sizes: list[tuple[int, int]], gain: float) -> None:
    image = torch.rand(shape)
    bands = laplacian.decompose(image, 4, gain)
    assert [tuple(b.shape[-2:]) for b in bands] == sizes
    torch.testing.assert_close(laplacian.synthesize(bands, gain), image, atol=1e-5, rtol=0)


def test_flat_image_lives_in_the_coarse_band_and_gain_scales_it() -> None:
    flat = torch.full((1, 3, 32, 32), 0.4)
    bands = laplacian.decompose(flat, 3)
    assert all(band.abs().max() < 1e-6 for band in bands[:-1])
    torch.testing.assert_close(bands[-1], torch.full((1, 3, 8, 8), 0.4))
    torch.testing.assert_close(laplacian.decompose(flat, 3, gain=0.5)[-1], torch.full((1, 3, 8, 8), 1.6))


def test_coarse_band_gradient_gathers_the_whole_region() -> None:
    """One unit of change in a coarse coefficient moves a region: its gradient is the sum over it."""
    bands = [band.requires_grad_(True) for band in laplacian.decompose(torch.zeros(1, 1, 16, 16), 3)]
    laplacian.synthesize(bands).sum().backward()
    assert bands[0].grad.abs().max() == 1.0
    torch.testing.assert_close(bands[-1].grad, torch.full((1, 1, 4, 4), 16.0))


def test_pyramid_levels() -> None:
    assert laplacian.pyramid_levels(256, 384) == 5  # coarsest 16 x 24
    assert laplacian.pyramid_levels(20, 20) == 1
    assert laplacian.pyramid_levels(4096, 4096) == 6
    with pytest.raises(ValueError):
        laplacian.decompose(torch.zeros(1, 3, 8, 8), 0)
