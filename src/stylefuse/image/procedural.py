"""Procedural style domains: filters that turn any photo into a "sketch", "cartoon", "oil" or
"pointillism" picture, so that a generator can learn photo -> style from unlabelled photos, with as many
exact training pairs as there are photos.

Each domain is a plain, deterministic function (3, H, W) float in [0, 1] -> (3, H, W) in [0, 1], written
with vectorised torch operations so that it runs on the fly in a training loop (64-128 px crops):

- :func:`sketch`: the eXtended Difference-of-Gaussians of the luminance with a soft threshold (XDoG,
  Winnemöller, Kyprianidis & Olsen 2012, "XDoG: An eXtended difference-of-Gaussians compendium including
  advanced image stylization"): dark pencil lines on edges over white paper, grey in deep shadows;
- :func:`cartoon`: iterated bilateral filtering (Tomasi & Manduchi 1998), hard colour quantisation and
  dark XDoG lines, after "Real-time video abstraction" (Winnemöller, Olsen & Gooch 2006);
- :func:`oil`: the Kuwahara filter (Kuwahara et al. 1976), flat patches of paint that keep strong edges;
- :func:`~stylefuse.image.pointillism.pointillism`: the existing dot filter (fixed seed).

:data:`DOMAINS` maps each name to its function.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from stylefuse.image import ops
from stylefuse.image.pointillism import pointillism


def _check_image(image: torch.Tensor) -> None:
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an image (3, H, W), got {tuple(image.shape)}")


def _pad(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Pad (B, C, H, W) by ``radius`` on every side: mirrored where the image is large enough, else replicated."""
    mode = "reflect" if radius < min(images.shape[-2:]) else "replicate"
    return F.pad(images, [radius] * 4, mode=mode)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W) with standard deviation ``sigma`` pixels (kernel radius 3σ,
    mirrored borders); sigma 0 returns the input."""
    if sigma <= 0:
        return images
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-taps.pow(2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).repeat(images.shape[1], 1, 1, 1)  # (C, 1, 1, K): one per channel
    x = _pad(images, radius)
    x = F.conv2d(x, kernel, groups=images.shape[1])
    return F.conv2d(x, kernel.transpose(-1, -2), groups=images.shape[1])


def difference_of_gaussians(luma: torch.Tensor, sigma: float, k: float = 1.6) -> torch.Tensor:
    """G_σ - G_kσ of (B, 1, H, W): zero in flat regions, negative on the dark side of edges, positive on
    the bright side (k = 1.6 approximates a Laplacian of Gaussian, Marr & Hildreth 1980)."""
    return gaussian_blur(luma, sigma) - gaussian_blur(luma, k * sigma)


def sketch(image: torch.Tensor, sigma: float = 0.8, k: float = 1.6, p: float = 10.0, epsilon: float = 0.15,
           phi: float = 5.0) -> torch.Tensor:
    """A pencil sketch of ``image`` by XDoG (Winnemöller et al. 2012): white where the sharpened DoG of
    the luminance is at least ``epsilon``, else ``1 + tanh(phi·(D - epsilon))`` (soft dark lines).

    Args:
        image: (3, H, W) in [0, 1].
        sigma: scale of the finer Gaussian in pixels (line width).
        k: ratio of the coarser Gaussian's scale to the finer one's (1.6 approximates a Laplacian of Gaussian).
        p: edge emphasis (how far the DoG overshoots at edges).
        epsilon: luminance threshold below which ink starts.
        phi: steepness of the soft threshold (large: binary lines).

    Returns:
        (3, H, W) in [0, 1], grey (three equal channels).
    """
    _check_image(image)
    luma = ops.luminance(image)[None]
    # the sharpened image of XDoG (eq. 6): (1 + p)·G_σ - p·G_kσ, the input in flat regions, below it at edges
    sharpened = gaussian_blur(luma, sigma) + p * difference_of_gaussians(luma, sigma, k)
    ink = torch.where(sharpened >= epsilon, torch.ones_like(sharpened), 1 + torch.tanh(phi * (sharpened - epsilon)))
    return ink[0].clamp(0, 1).expand(3, -1, -1).clone()


def bilateral(images: torch.Tensor, radius: int = 3, sigma_space: float = 2.0, sigma_colour: float = 0.1
              ) -> torch.Tensor:
    """Bilateral filter of (B, C, H, W) (Tomasi & Manduchi 1998): each pixel becomes the mean of its
    (2·radius + 1)² neighbours weighted by spatial distance (``sigma_space`` pixels) and colour distance
    (Euclidean over channels, ``sigma_colour`` in [0, 1] units), so smoothing stops at edges."""
    height, width = images.shape[-2:]
    padded = _pad(images, radius)
    total = torch.zeros_like(images)
    weights = torch.zeros_like(images[:, :1])
    for dy in range(-radius, radius + 1):  # (2r+1)² shifted views: cheap at the crop sizes of training
        for dx in range(-radius, radius + 1):
            shifted = padded[..., radius + dy:radius + dy + height, radius + dx:radius + dx + width]
            colour = (shifted - images).pow(2).sum(1, keepdim=True)
            weight = torch.exp(-colour / (2 * sigma_colour**2) - (dy * dy + dx * dx) / (2 * sigma_space**2))
            total += weight * shifted
            weights += weight
    return total / weights


def cartoon(image: torch.Tensor, iterations: int = 3, radius: int = 3, sigma_space: float = 2.0,
            sigma_colour: float = 0.1, levels: int = 6, line_sigma: float = 1.0, line_threshold: float = 0.03
            ) -> torch.Tensor:
    """A cartoon of ``image`` (after Winnemöller, Olsen & Gooch 2006): flat regions from iterated
    bilateral filtering, colours quantised to ``levels`` values per channel, and black lines on the dark
    side of edges, where the difference of Gaussians of the smoothed luminance falls below ``-line_threshold``.

    Args:
        image: (3, H, W) in [0, 1].
        iterations: passes of :func:`bilateral` (more: flatter regions).
        radius, sigma_space, sigma_colour: see :func:`bilateral`.
        levels: values per channel after quantisation (at most levels³ colours, plus black).
        line_sigma: scale of the line detector in pixels.
        line_threshold: how far below zero the DoG must fall for a line (lower: more lines).

    Returns:
        (3, H, W) in [0, 1].
    """
    _check_image(image)
    if levels < 2:
        raise ValueError(f"levels must be at least 2, got {levels}")
    smooth = image[None]
    for _ in range(iterations):
        smooth = bilateral(smooth, radius, sigma_space, sigma_colour)
    flat = torch.round(smooth.clamp(0, 1) * (levels - 1)) / (levels - 1)
    lines = difference_of_gaussians(ops.luminance(smooth), line_sigma) < -line_threshold
    return torch.where(lines, torch.zeros_like(flat), flat)[0]


def kuwahara(images: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """The classic Kuwahara filter of (B, 3, H, W) (Kuwahara et al. 1976): of the four (radius + 1)²
    squares that have the pixel as a corner, take the mean colour of the one whose luminance varies least,
    which flattens texture without crossing edges."""
    height, width = images.shape[-2:]
    side = radius + 1
    padded = _pad(images, radius)
    luma = ops.luminance(padded)
    means = F.avg_pool2d(padded, side, stride=1)  # (B, 3, H + r, W + r); box (i, j) covers rows i-r..i
    variance = F.avg_pool2d(luma * luma, side, stride=1) - F.avg_pool2d(luma, side, stride=1).pow(2)
    corners = [(0, 0), (0, radius), (radius, 0), (radius, radius)]  # above-left, above-right, below-left, below-right
    quadrant_means = torch.stack([means[..., y:y + height, x:x + width] for y, x in corners], 1)
    quadrant_variances = torch.stack([variance[..., y:y + height, x:x + width] for y, x in corners], 1)
    best = quadrant_variances.argmin(1, keepdim=True)  # (B, 1, 1, H, W)
    return quadrant_means.gather(1, best.expand(-1, -1, 3, -1, -1))[:, 0]


def oil(image: torch.Tensor, radius: int = 3, passes: int = 2) -> torch.Tensor:
    """An oil-painting look: ``passes`` rounds of the :func:`kuwahara` filter.

    Args:
        image: (3, H, W) in [0, 1].
        radius: the Kuwahara window's radius in pixels (the size of a brush stroke).
        passes: repeated filtering flattens patches further.

    Returns:
        (3, H, W) in [0, 1].
    """
    _check_image(image)
    out = image[None]
    for _ in range(passes):
        out = kuwahara(out, radius)
    return out[0].clamp(0, 1)


DOMAINS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sketch": sketch,
    "cartoon": cartoon,
    "oil": oil,
    "pointillism": pointillism,
}
"""Procedural style domains by name: (3, H, W) in [0, 1] -> (3, H, W) in [0, 1], deterministic."""
