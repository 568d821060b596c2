"""Classical restoration baselines, each ``fn(case) -> (3, H, W)`` in [0, 1] (see ``_restore_cases.Case``).

- denoising: scikit-image's non-local means (Buades et al. 2005) with the known σ and the ``h = 0.8 σ`` its
  documentation recommends for ``fast_mode``; OpenCV's ``fastNlMeansDenoisingColored`` with ``h`` tuned per σ
  on training photos (:func:`tune_opencv_nlm`); CBM3D (Dabov et al. 2007, the ``bm3d`` package);
- super-resolution: PIL's bicubic upscaling;
- inpainting: scikit-image's biharmonic inpainting (Damelin & Hoang 2018) and OpenCV's Telea (2004);
- low light: gamma correction with the gamma that brings the mean luma to 0.5, and CLAHE (Zuiderveld 1994)
  on the L channel of Lab.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import cv2
import numpy as np
import skimage.restoration  # imported here so that no baseline's timing pays for it
import torch
from PIL import Image

from stylefuse.image import ops
from stylefuse.image.io import quantize, to_pil
from stylefuse.metrics.content import psnr

Baseline = Callable[..., torch.Tensor]


def _float_array(image: torch.Tensor) -> np.ndarray:
    return image.permute(1, 2, 0).contiguous().numpy().astype(np.float32)


def _uint8_array(image: torch.Tensor) -> np.ndarray:
    return quantize(image.permute(1, 2, 0))


def _tensor(array: np.ndarray) -> torch.Tensor:
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    return (torch.from_numpy(np.array(array)).float() / scale).permute(2, 0, 1).clamp(0, 1)


def identity(case) -> torch.Tensor:
    """The degraded input itself (what doing nothing scores)."""
    return case.degraded


def skimage_nlm(case) -> torch.Tensor:
    """scikit-image non-local means, patch 5, distance 6, fast mode, h = 0.8 σ (the documented choice)."""
    sigma = case.level / 255
    denoised = skimage.restoration.denoise_nl_means(_float_array(case.degraded), h=0.8 * sigma, sigma=sigma,
                                                    fast_mode=True, patch_size=5, patch_distance=6, channel_axis=-1)
    return _tensor(denoised.astype(np.float32))


def opencv_nlm(case, h_per_sigma: float) -> torch.Tensor:
    """OpenCV fastNlMeansDenoisingColored (template 7, search 21) with h = hColor = ``h_per_sigma`` · σ."""
    h = h_per_sigma * case.level
    return _tensor(cv2.fastNlMeansDenoisingColored(_uint8_array(case.degraded), None, h, h, 7, 21))


def tune_opencv_nlm(cases: Sequence, factors: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
                    ) -> dict[float, float]:
    """The ``h_per_sigma`` of :func:`opencv_nlm` with the best mean PSNR on ``cases`` (training photos), per σ."""
    best = {}
    for sigma in sorted({case.level for case in cases}):
        chosen = [case for case in cases if case.level == sigma]
        scores = {factor: sum(float(psnr(opencv_nlm(c, factor)[None], c.clean[None])[0]) for c in chosen)
                  for factor in factors}
        best[sigma] = max(scores, key=scores.get)
    return best


def cbm3d(case) -> torch.Tensor:
    """CBM3D of the ``bm3d`` package with the known σ (slow: tens of seconds per image on a CPU)."""
    import bm3d

    return _tensor(np.asarray(bm3d.bm3d_rgb(_float_array(case.degraded), case.level / 255), np.float32))


def bicubic(case) -> torch.Tensor:
    """PIL bicubic upscaling of the small picture by the case's factor."""
    height, width = case.clean.shape[-2:]
    return _tensor(np.asarray(to_pil(case.degraded).resize((width, height), Image.Resampling.BICUBIC)))


def biharmonic(case) -> torch.Tensor:
    """scikit-image biharmonic inpainting of the masked pixels."""
    mask = case.mask[0].bool().numpy()
    filled = skimage.restoration.inpaint_biharmonic(_float_array(case.degraded), mask, channel_axis=-1)
    return _tensor(filled.astype(np.float32))


def telea(case, radius: int = 3) -> torch.Tensor:
    """OpenCV's fast-marching inpainting (Telea 2004) with a ``radius``-pixel neighbourhood."""
    mask = case.mask[0].to(torch.uint8).numpy()
    return _tensor(cv2.inpaint(_uint8_array(case.degraded), mask, radius, cv2.INPAINT_TELEA))


def gamma_correction(case) -> torch.Tensor:
    """``x^g`` with g = log 0.5 / log(mean luma), so the result's mean luma is about 0.5."""
    mean = float(ops.luminance(case.degraded).mean().clamp(1 / 255, 0.99))
    return case.degraded.clamp(min=0) ** (math.log(0.5) / math.log(mean))


def clahe(case, clip_limit: float = 2.0, tiles: int = 8) -> torch.Tensor:
    """OpenCV CLAHE on the L channel of Lab (clip limit 2, 8x8 tiles), colours kept."""
    lab = cv2.cvtColor(_uint8_array(case.degraded), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply(lab[..., 0])
    return _tensor(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))
