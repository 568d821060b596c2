"""Synthetic degradations of clean photo crops, for training and measuring restoration.

Every function takes a batch of clean crops (B, 3, H, W) in [0, 1] and a :class:`torch.Generator` and
draws all its randomness from that generator, so a batch is a function of the generator's seed alone (with
:func:`stylefuse.data.folders.step_generator`, a resumed run sees the same batches). Degraded inputs are
quantised to 8 bits, as the images a user passes are.

Each returns a :class:`Degraded`: ``(input, target, mask, level)``, ``mask`` (B, 1, H, W) with 1 on missing
pixels (zeros where nothing is missing) and ``level`` (B,) the Gaussian noise σ in 8-bit units (0 where it is
unknown or there is none).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from stylefuse.errors import OptionError

RESTORATION_TASKS = ("denoise", "sr2", "sr4", "inpaint", "enhance")
"""The restoration tasks, each made from clean photos by a function of this module."""
GAUSSIAN_SIGMAS = (5.0, 55.0)
"""Range of the Gaussian noise σ (8-bit units) when none is fixed: covers the usual 15 / 25 / 50."""
POISSON_SHARE = 0.2
"""Share of the denoising samples whose noise is Poisson (photon counting) rather than Gaussian."""


class Degraded(NamedTuple):
    """A degraded batch and what it should be restored to (see the module docstring)."""

    input: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor
    level: torch.Tensor


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels in [0, 1], as an image file holds them."""
    return (images.clamp(0, 1) * 255).round() / 255


def _uniform(count: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(count, generator=generator)


def _no_mask(clean: torch.Tensor) -> torch.Tensor:
    return clean.new_zeros(clean.shape[0], 1, *clean.shape[-2:])


def denoise(clean: torch.Tensor, generator: torch.Generator, sigma: float | None = None,
            poisson_share: float = POISSON_SHARE) -> Degraded:
    """Additive white Gaussian noise (σ uniform in :data:`GAUSSIAN_SIGMAS`, or ``sigma``) or, for a share of
    the samples, Poisson noise of a random peak (5 to 100 photons at white), clipped and quantised (the
    degradation of DnCNN, Zhang et al. 2017, on 8-bit images).

    Args:
        clean: (B, 3, H, W) in [0, 1].
        sigma: a fixed σ in 8-bit units (then every sample is Gaussian).
    Returns:
        :class:`Degraded`; ``level`` is σ, 0 for Poisson samples (their level varies with brightness).
    """
    count = clean.shape[0]
    if sigma is not None:
        sigmas, poisson = torch.full((count,), float(sigma)), torch.zeros(count, dtype=torch.bool)
    else:
        sigmas = _uniform(count, *GAUSSIAN_SIGMAS, generator)
        poisson = torch.rand(count, generator=generator) < poisson_share
    noise = torch.randn(clean.shape, generator=generator) * (sigmas / 255).view(-1, 1, 1, 1)
    gaussian = clean + noise
    peaks = torch.exp(_uniform(count, math.log(5), math.log(100), generator)).view(-1, 1, 1, 1)
    counted = torch.poisson(clean * peaks, generator=generator) / peaks
    noisy = torch.where(poisson.view(-1, 1, 1, 1), counted, gaussian)
    return Degraded(quantize(noisy), clean, _no_mask(clean), torch.where(poisson, 0.0, sigmas))


def bicubic_degrade(clean: torch.Tensor, factor: int) -> torch.Tensor:
    """Bicubic (antialiased) downscaling by ``factor``, quantised, then bicubic upscaling back to the size of
    ``clean``, quantised: the classic super-resolution input at the output's size (SRCNN, Dong et al. 2014).

    Shape: (B, 3, H, W) -> (B, 3, H, W); H and W need not be multiples of ``factor``.
    """
    if factor < 2:
        raise OptionError(f"a super-resolution factor must be at least 2, got {factor}")
    height, width = clean.shape[-2:]
    small = F.interpolate(clean, size=(max(1, height // factor), max(1, width // factor)), mode="bicubic",
                          align_corners=False, antialias=True)
    return quantize(F.interpolate(quantize(small), size=(height, width), mode="bicubic", align_corners=False))


def super_resolution(factor: int) -> Callable[..., Degraded]:
    """The degradation of the ``sr{factor}`` task (see :func:`bicubic_degrade`); needs no randomness."""

    def degrade(clean: torch.Tensor, generator: torch.Generator | None = None) -> Degraded:
        return Degraded(bicubic_degrade(clean, factor), clean, _no_mask(clean), clean.new_zeros(clean.shape[0]))

    degrade.__doc__ = f"Bicubic x{factor} down then up (:func:`bicubic_degrade`)."
    return degrade


def _stroke_mask(height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """1 to 5 random polylines of 3 to 15 px width, (H, W) in {0, 1}."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")
    mask = torch.zeros(height, width)
    for _ in range(int(torch.randint(1, 6, (1,), generator=generator))):
        radius = float(_uniform(1, 1.5, 7.5, generator))
        points = torch.rand(int(torch.randint(2, 5, (1,), generator=generator)), 2, generator=generator)
        points = points * torch.tensor([height, width])
        for (y0, x0), (y1, x1) in zip(points[:-1].tolist(), points[1:].tolist()):
            dy, dx = y1 - y0, x1 - x0
            t = (((ys - y0) * dy + (xs - x0) * dx) / max(dy * dy + dx * dx, 1e-6)).clamp(0, 1)
            distance = ((ys - y0 - t * dy) ** 2 + (xs - x0 - t * dx) ** 2).sqrt()
            mask = torch.maximum(mask, (distance <= radius).float())
    return mask


def _box_mask(height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """1 to 3 rectangles of 10 % to 35 % of each side, (H, W) in {0, 1}."""
    mask = torch.zeros(height, width)
    for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
        box_h = max(1, int(float(_uniform(1, 0.1, 0.35, generator)) * height))
        box_w = max(1, int(float(_uniform(1, 0.1, 0.35, generator)) * width))
        top = int(torch.randint(0, height - box_h + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - box_w + 1, (1,), generator=generator))
        mask[top:top + box_h, left:left + box_w] = 1
    return mask


def random_masks(count: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """Masks of missing pixels, (count, 1, H, W) in {0, 1} (1 = missing): for each sample, by thirds,
    scattered missing pixels (10 % to 60 % of them), strokes, or strokes and boxes together."""
    masks = []
    for _ in range(count):
        kind = int(torch.randint(0, 3, (1,), generator=generator))
        if kind == 0:
            rate = float(_uniform(1, 0.1, 0.6, generator))
            masks.append((torch.rand(height, width, generator=generator) < rate).float())
        elif kind == 1:
            masks.append(_stroke_mask(height, width, generator))
        else:
            masks.append(torch.maximum(_stroke_mask(height, width, generator), _box_mask(height, width, generator)))
    return torch.stack(masks)[:, None]


def inpaint(clean: torch.Tensor, generator: torch.Generator, mask: torch.Tensor | None = None) -> Degraded:
    """Pixels removed under random masks (:func:`random_masks`, or ``mask``): the input is 0 there and the mask
    is returned as the extra input.

    Args:
        clean: (B, 3, H, W) in [0, 1].
        mask: (B, 1, H, W) in {0, 1}, 1 = missing; None draws one per sample.
    """
    if mask is None:
        mask = random_masks(clean.shape[0], *clean.shape[-2:], generator)
    return Degraded(quantize(clean * (1 - mask)), clean, mask, clean.new_zeros(clean.shape[0]))


def enhance(clean: torch.Tensor, generator: torch.Generator) -> Degraded:
    """A low-light shot: the exposure scaled by 0.05 to 0.4 (log-uniform), a gamma of 1 to 1.8 that darkens
    the shadows further, then sensor noise (shot noise growing with the signal plus read noise) and 8-bit
    quantisation, where most of the dark detail is lost (the synthetic low-light pairs of LLNet, Lore et al.
    2017).

    Shape: (B, 3, H, W) -> :class:`Degraded`; the target is ``clean``.
    """
    count = clean.shape[0]
    exposure = torch.exp(_uniform(count, math.log(0.05), math.log(0.4), generator)).view(-1, 1, 1, 1)
    gamma = _uniform(count, 1.0, 1.8, generator).view(-1, 1, 1, 1)
    dark = exposure * clean.clamp(min=0) ** gamma
    shot = _uniform(count, 0.0, 0.01, generator).view(-1, 1, 1, 1)
    read = _uniform(count, 0.0, 0.02, generator).view(-1, 1, 1, 1)
    noise = torch.randn(clean.shape, generator=generator) * (dark * shot + read**2).sqrt()
    return Degraded(quantize(dark + noise), clean, _no_mask(clean), clean.new_zeros(count))


def impulse(clean: torch.Tensor, generator: torch.Generator) -> Degraded:
    """Salt-and-pepper noise: 5 % to 30 % of the values (per channel) set to 0 or 1 (a dead or saturated
    sensor site), a noise no Gaussian denoiser was trained on.

    Shape: (B, 3, H, W) -> :class:`Degraded`; the target is ``clean``.
    """
    rate = _uniform(clean.shape[0], 0.05, 0.3, generator).view(-1, 1, 1, 1)
    hit = torch.rand(clean.shape, generator=generator) < rate
    salt = (torch.rand(clean.shape, generator=generator) < 0.5).to(clean.dtype)
    return Degraded(quantize(torch.where(hit, salt, clean)), clean, _no_mask(clean), clean.new_zeros(clean.shape[0]))


DEGRADATIONS: dict[str, Callable[..., Degraded]] = {
    "denoise": denoise, "sr2": super_resolution(2), "sr3": super_resolution(3), "sr4": super_resolution(4),
    "inpaint": inpaint, "enhance": enhance, "impulse": impulse,
}
"""Task name -> ``degrade(clean, generator) -> Degraded``; ``sr3`` and ``impulse`` are held out of the shipped
model's tasks (new tasks to adapt to)."""
