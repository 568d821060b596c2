"""Between stylefuse's tensors and OpenCV's arrays: (3, H, W) float RGB in [0, 1] <-> (H, W, 3) uint8 BGR."""

from __future__ import annotations

import numpy as np
import torch

from stylefuse.image.io import quantize
from stylefuse.optional import require_cv2

__all__ = ["require_cv2", "to_bgr8", "from_bgr", "grey"]


def to_bgr8(rgb: torch.Tensor) -> np.ndarray:
    """(3, H, W) float RGB in [0, 1] -> (H, W, 3) uint8 BGR (contiguous)."""
    return np.ascontiguousarray(quantize(rgb.permute(1, 2, 0))[..., ::-1])


def from_bgr(array: np.ndarray) -> torch.Tensor:
    """(H, W, 3) BGR, uint8 or float in [0, 1] -> (3, H, W) float32 RGB in [0, 1]."""
    values = array.astype(np.float32) / (255.0 if array.dtype == np.uint8 else 1.0)
    return torch.from_numpy(np.ascontiguousarray(values[..., ::-1])).permute(2, 0, 1).clamp(0, 1).contiguous()


def grey(array: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma in [0, 1] of a (H, W, 3) uint8 BGR image."""
    cv2 = require_cv2()
    return cv2.cvtColor(array, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
