"""A Laplacian-pyramid parameterisation of an image, for optimising pixels (Burt & Adelson 1983).

An image (B, C, H, W) is stored as band-pass residuals, finest first, plus a coarse low-pass band;
synthesis upsamples the coarsest band and adds each residual back. Optimising the bands instead of
the pixels preconditions the problem: a coarse band's value moves a whole region at once, so the
large-scale layout, which pixel-wise gradient steps change slowly, converges in far fewer steps
(the multi-resolution parameterisation of Olah et al. 2017, "Feature Visualization", and of Kolkin et
al. 2019, "Style Transfer by Relaxed Optimal Transport and Self-Similarity").

Each band k is stored divided by ``gain**k`` and multiplied back at synthesis, which sets how much
faster coarse bands move than fine ones (gain 1: the plain pyramid).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _down(images: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(images, 2, ceil_mode=True)


def _up(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)


def pyramid_levels(height: int, width: int, coarsest: int = 16, most: int = 6) -> int:
    """How many bands a (height, width) image gets: halve while the short side stays >= ``coarsest``."""
    levels = 1
    while levels < most and min(height, width) / 2**levels >= coarsest:
        levels += 1
    return levels


def decompose(images: torch.Tensor, levels: int, gain: float = 1.0) -> list[torch.Tensor]:
    """Bands of ``images`` (B, C, H, W): ``levels - 1`` residuals, finest first (full size, then
    halving), and the low-pass band last; band k divided by ``gain**k``.
    ``synthesize(decompose(x)) == x`` up to rounding (the bands hold more values than the image has
    pixels, so not every set of bands is the decomposition of an image)."""
    if levels < 1:
        raise ValueError(f"a Laplacian pyramid needs at least one level, got {levels}")
    bands, current = [], images
    for _ in range(levels - 1):
        smaller = _down(current)
        bands.append(current - _up(smaller, tuple(current.shape[-2:])))
        current = smaller
    bands.append(current)
    return [band / gain**k for k, band in enumerate(bands)]


def synthesize(bands: list[torch.Tensor], gain: float = 1.0) -> torch.Tensor:
    """The image (B, C, H, W) that ``bands`` describe (see :func:`decompose`)."""
    image = bands[-1] * gain ** (len(bands) - 1)
    for k in reversed(range(len(bands) - 1)):
        image = _up(image, tuple(bands[k].shape[-2:])) + bands[k] * gain**k
    return image


def gaussian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``levels`` low-pass images of (B, C, H, W), finest (``images`` itself) first, each half the size of the
    one before: the sizes of :func:`decompose`'s bands."""
    pyramid = [images]
    for _ in range(levels - 1):
        pyramid.append(_down(pyramid[-1]))
    return pyramid


def blend(images: torch.Tensor, weights: torch.Tensor, levels: int | None = None) -> torch.Tensor:
    """Multiband blending (Burt & Adelson 1983, "A Multiresolution Spline With Application to Image
    Mosaics"): band k of the result is the sum over the K images of their band k times the weights' Gaussian
    level k, so that coarse bands change over wide transitions and fine ones over narrow ones, and seams
    vanish without ghosting.

    Args:
        images: (K, C, H, W).
        weights: (K, 1, H, W), non-negative; normalised to sum to 1 at each pixel (a pixel no weight covers
            takes the mean of the images).
        levels: bands (default :func:`pyramid_levels`).

    Returns:
        (C, H, W).
    """
    levels = levels or pyramid_levels(*images.shape[-2:])
    total = weights.sum(0, keepdim=True)
    weights = torch.where(total > 0, weights / total.clamp_min(1e-12), torch.full_like(weights, 1 / len(weights)))
    bands = decompose(images, levels)
    masks = gaussian_pyramid(weights, levels)
    return synthesize([(band * mask).sum(0, keepdim=True) for band, mask in zip(bands, masks)])[0]
