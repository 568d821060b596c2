"""The restoration benchmark's test cases: seeded, fixed-level degradations of clean photos.

They follow the conventions of the training degradations (``stylefuse.data.degrade`` on the ``conditional``
branch): values clipped to [0, 1] and quantised to 8 bits, as a saved picture holds them; holes are 0 with a
mask that is 1 on missing pixels; a low-light shot is exposure x gamma x shot-and-read noise. Unlike
training, each case has one fixed level (σ 15 / 25 / 50, 25 % / 50 % missing pixels, ...), so every method
sees exactly the same inputs, and a case is a function of the photo and its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from PIL import Image

from stylefuse.image.io import quantize, to_pil

SIGMAS = (15, 25, 50)
SR_FACTORS = (2, 4)
MISSING_RATES = (0.25, 0.5)
STROKE_WIDTH = 9
STROKE_COVERAGE = 0.15
"""Strokes are drawn until this share of the pixels is missing."""
LOW_LIGHT = {"exposure": 0.15, "gamma": 1.4, "shot": 0.005, "read": 0.01}
"""One low-light shot in the middle of the training ranges (exposure 0.05-0.4 log-uniform, gamma 1-1.8)."""


@dataclass
class Case:
    """One degraded photo.

    Attributes:
        task: denoise, sr2, sr4, inpaint or enhance.
        setting: the level's name (``sigma25``, ``missing50``, ``strokes9``, ``x2``, ``low_light``).
        clean: (3, H, W) in [0, 1], the target.
        degraded: (3, h, w) on the 8-bit grid; for super-resolution the small picture (h = H / factor).
        mask: (1, H, W) in {0, 1}, 1 = missing (inpainting), else None.
        level: the noise σ in 8-bit units (denoising), else None.
        factor: the scale factor (super-resolution), else None.
    """

    task: str
    setting: str
    clean: torch.Tensor
    degraded: torch.Tensor
    mask: torch.Tensor | None = None
    level: float | None = None
    factor: int | None = None


def on_8_bits(image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) clipped to [0, 1] and rounded to 8-bit levels (what an image file holds)."""
    return torch.from_numpy(quantize(image.clamp(0, 1).permute(1, 2, 0))).permute(2, 0, 1).float() / 255


def noisy(clean: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Additive white Gaussian noise of σ (8-bit units), clipped and quantised."""
    generator = torch.Generator().manual_seed(seed)
    return on_8_bits(clean + torch.randn(clean.shape, generator=generator) * sigma / 255)


def downscaled(clean: torch.Tensor, factor: int) -> torch.Tensor:
    """PIL's bicubic (antialiased) reduction by ``factor``, quantised; ``clean``'s sides must be multiples of it."""
    height, width = clean.shape[-2:]
    small = to_pil(clean).resize((width // factor, height // factor), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.asarray(small).copy()).permute(2, 0, 1).float() / 255


def missing_pixels(height: int, width: int, rate: float, seed: int) -> torch.Tensor:
    """(1, H, W) mask with each pixel missing with probability ``rate``."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(1, height, width, generator=generator) < rate).float()


def strokes(height: int, width: int, seed: int, width_px: int = STROKE_WIDTH,
            coverage: float = STROKE_COVERAGE) -> torch.Tensor:
    """(1, H, W) mask of random 4-point polylines ``width_px`` wide, drawn until ``coverage`` is missing."""
    generator = torch.Generator().manual_seed(seed)
    mask = np.zeros((height, width), np.uint8)
    while mask.mean() < coverage:
        points = (torch.rand(4, 2, generator=generator) * torch.tensor([width, height])).round().int().numpy()
        cv2.polylines(mask, [points.reshape(-1, 1, 2)], False, 1, thickness=width_px)
    return torch.from_numpy(mask).float()[None]


def low_light(clean: torch.Tensor, seed: int, exposure: float = LOW_LIGHT["exposure"],
              gamma: float = LOW_LIGHT["gamma"], shot: float = LOW_LIGHT["shot"], read: float = LOW_LIGHT["read"]
              ) -> torch.Tensor:
    """exposure · clean^gamma plus noise of variance shot · signal + read², quantised (LLNet-style, Lore et al.
    2017)."""
    generator = torch.Generator().manual_seed(seed)
    dark = exposure * clean.clamp(min=0) ** gamma
    return on_8_bits(dark + torch.randn(clean.shape, generator=generator) * (dark * shot + read**2).sqrt())


def make_cases(clean: torch.Tensor, seed: int, tasks: tuple[str, ...]) -> list[Case]:
    """Every test case of one photo for ``tasks``; the photo's sides must be multiples of 4 (for sr4)."""
    height, width = clean.shape[-2:]
    cases = []
    if "denoise" in tasks:
        cases += [Case("denoise", f"sigma{s}", clean, noisy(clean, s, seed + s), level=float(s)) for s in SIGMAS]
    for factor in SR_FACTORS:
        if f"sr{factor}" in tasks:
            cases.append(Case(f"sr{factor}", f"x{factor}", clean, downscaled(clean, factor), factor=factor))
    if "inpaint" in tasks:
        masks = {f"missing{round(rate * 100)}": missing_pixels(height, width, rate, seed + round(rate * 100))
                 for rate in MISSING_RATES}
        masks[f"strokes{STROKE_WIDTH}"] = strokes(height, width, seed + 7)
        cases += [Case("inpaint", name, clean, on_8_bits(clean * (1 - mask)), mask=mask)
                  for name, mask in masks.items()]
    if "enhance" in tasks:
        cases.append(Case("enhance", "low_light", clean, low_light(clean, seed + 3)))
    return cases
