"""Focus stacking: shots focused at different depths become one image sharp everywhere. Each shot is
aligned to the first (ECC, Evangelidis & Psarakis 2008, affine), its sharpness at each pixel measured as
the smoothed magnitude of its Laplacian, and every pixel taken from the sharpest shot, with the choice
blended in a Laplacian pyramid (Burt & Adelson 1983) so that its borders do not show."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from stylefuse.errors import FusionError
from stylefuse.fusion._cv import from_bgr, grey, require_cv2, to_bgr8
from stylefuse.image import laplacian

SHARPNESS_SIGMA = 2.0
"""Gaussian smoothing (pixels) of the Laplacian magnitude: the scale at which sharpness is compared."""


def focus_stack(images: Sequence[torch.Tensor], align: bool = True, names: Sequence[str] | None = None
                ) -> torch.Tensor:
    """Fuse a focus stack, each shot (3, H, W) in [0, 1] of one size, into one (3, H, W) in [0, 1].

    Args:
        align: align every shot to the first (affine) before comparing sharpness.
        names: how to name the shots in errors.
    """
    cv2 = require_cv2()
    shots = [to_bgr8(image) for image in images]
    if align:
        names = list(names or [str(index + 1) for index in range(len(shots))])
        shots = [shots[0]] + [_aligned(shot, shots[0], name) for shot, name in zip(shots[1:], names[1:])]
    sharpness = np.stack([cv2.GaussianBlur(np.abs(cv2.Laplacian(grey(shot), cv2.CV_32F, ksize=3)), (0, 0),
                                           SHARPNESS_SIGMA) for shot in shots])
    choice = torch.from_numpy(sharpness.argmax(0))
    weights = torch.stack([(choice == index).float() for index in range(len(shots))])[:, None]
    stack = torch.stack([from_bgr(shot) for shot in shots])
    return laplacian.blend(stack, weights).clamp(0, 1)


def _aligned(shot: np.ndarray, reference: np.ndarray, name: str) -> np.ndarray:
    """``shot`` warped onto ``reference`` by the affine map ECC finds between their grey levels."""
    cv2 = require_cv2()
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    try:
        _, warp = cv2.findTransformECC(grey(reference), grey(shot), warp, cv2.MOTION_AFFINE, criteria, None, 5)
    except cv2.error:
        raise FusionError(f"could not align {name} to the first shot (ECC did not converge); pass --no-align if the "
                          "shots are already aligned") from None
    height, width = reference.shape[:2]
    return cv2.warpAffine(shot, warp, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)
