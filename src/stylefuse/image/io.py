"""Image files in and out: one value range (float32 RGB in [0, 1], shape (3, H, W)) for every mode.

The decoding and encoding live in :mod:`stylefuse.image.arrays` (NumPy, no PyTorch); this module gives them as
tensors. Reading applies EXIF orientation, takes the first frame of animations, converts every PIL mode to RGB,
keeps the alpha channel apart so that it can be put back on output, keeps 16-bit precision, and checks a pixel
limit from the header, before any pixel is decoded.

Every failure a user can cause raises :class:`ImageReadError` / :class:`ImageWriteError` with a
one-line message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from stylefuse.image.arrays import (
    DEFAULT_MAX_PIXELS,
    READ_SUFFIXES,
    WRITE_FORMATS,
    Pixels,
    ensure_not_input,
    list_image_files,
    pil_to_pixels,
    pixels_to_pil,
    quantize_array,
    read_pixels,
    to_unit,
    write_pixels,
)

__all__ = ["DEFAULT_MAX_PIXELS", "READ_SUFFIXES", "WRITE_FORMATS", "Picture", "read_image", "to_pil", "quantize",
           "write_image", "ensure_not_input", "list_image_files", "as_picture"]


@dataclass
class Picture:
    """A decoded image.

    Attributes:
        rgb: float32 tensor (3, H, W), values in [0, 1].
        alpha: float32 tensor (1, H, W) in [0, 1], or None when the image is opaque.
        bit_depth: bits per channel of the source (8, 16 or 32).
        source: the file it was read from, if any.
    """

    rgb: torch.Tensor
    alpha: torch.Tensor | None = None
    bit_depth: int = 8
    source: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[2], self.rgb.shape[1]


def read_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Picture:
    """Read a JPEG, PNG, WebP, TIFF, BMP or GIF file into a :class:`Picture`, refusing images over ``max_pixels``
    before decoding; what it accepts and the :class:`ImageReadError` it raises are those of
    :func:`stylefuse.image.arrays.read_pixels`."""
    return _picture(read_pixels(path, max_pixels), Path(path))


def _picture(pixels: Pixels, source: Path | None) -> Picture:
    alpha = None if pixels.alpha is None else torch.from_numpy(pixels.alpha)
    return Picture(rgb=torch.from_numpy(pixels.rgb), alpha=alpha, bit_depth=pixels.bit_depth, source=source)


def to_pil(rgb: torch.Tensor, alpha: torch.Tensor | None = None) -> Image.Image:
    """Convert a (3, H, W) tensor in [0, 1] (and optional (1, H, W) alpha) to an 8-bit PIL image.

    Values are rounded to the nearest 8-bit level; values outside [0, 1] are an error, not clipped.
    """
    _check_rgb(rgb)
    return pixels_to_pil(_numpy(rgb), None if alpha is None else _numpy(alpha))


def _numpy(values: torch.Tensor) -> np.ndarray:
    return values.detach().float().cpu().numpy()


def quantize(values: torch.Tensor) -> np.ndarray:
    """(H, W, C) floats in [0, 1] -> uint8 array, rounded to the nearest level."""
    return quantize_array(_numpy(values))


def _check_rgb(rgb: torch.Tensor) -> None:
    if rgb.ndim != 3 or rgb.shape[0] != 3:
        raise ValueError(f"expected an RGB tensor of shape (3, H, W), got {tuple(rgb.shape)}")
    tolerance = 1e-3
    if rgb.min() < -tolerance or rgb.max() > 1 + tolerance:
        raise ValueError(f"RGB values must lie in [0, 1], found {rgb.min().item():g}..{rgb.max().item():g}")


def write_image(path: str | os.PathLike, rgb: torch.Tensor, alpha: torch.Tensor | None = None,
                quality: int = 95) -> Path:
    """Write an image, choosing the format from the extension; create parent folders.

    The file is written to a temporary name and renamed, so an interrupted write never leaves a
    half-written image. JPEG has no alpha: a transparent picture is composited over white.

    Args:
        path: destination ending in .png, .jpg/.jpeg, .webp or .tif/.tiff.
        rgb: (3, H, W) tensor in [0, 1].
        alpha: optional (1, H, W) tensor in [0, 1].
        quality: JPEG / WebP quality.

    Returns:
        The path written.
    """
    _check_rgb(rgb)
    return write_pixels(path, _numpy(rgb), None if alpha is None else _numpy(alpha), quality)


def as_picture(image: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> Picture:
    """Accept a path, a :class:`Picture`, a PIL image, an array (H, W[, C]) or a tensor (3, H, W).

    Arrays of dtype uint8 are read as 0..255, uint16 as 0..65535, floats must already lie in [0, 1].
    """
    if isinstance(image, Picture):
        return image
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, max_pixels)
    if isinstance(image, Image.Image):
        return _picture(pil_to_pixels(ImageOps.exif_transpose(image), None), None)
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.ndim == 4 and image.shape[0] == 1:
            image = image[0]
        if image.ndim != 3 or image.shape[0] not in (1, 3, 4):
            raise ValueError(f"expected a tensor of shape (C, H, W) with C in 1, 3, 4; got {tuple(image.shape)}")
        image = image.permute(1, 2, 0).numpy()
    if isinstance(image, np.ndarray):
        return _array_to_picture(image)
    raise TypeError(f"cannot use {type(image).__name__} as an image; pass a path, PIL image, array or tensor")


def _array_to_picture(array: np.ndarray) -> Picture:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an array of shape (H, W), (H, W, 3) or (H, W, 4); got {array.shape}")
    if array.dtype == np.uint8:
        values, bits = to_unit(array, 8), 8
    elif array.dtype == np.uint16:
        values, bits = to_unit(array, 16), 16
    elif np.issubdtype(array.dtype, np.floating):
        values, bits = array.astype(np.float32), 32
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ValueError("float image arrays must hold finite values in [0, 1]")
    else:
        raise ValueError(f"unsupported array dtype {array.dtype}; use uint8, uint16 or float in [0, 1]")
    tensor = torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))
    channels = tensor.shape[0]
    alpha = tensor[3:4] if channels == 4 else None
    rgb = tensor[:3] if channels >= 3 else tensor.expand(3, -1, -1).contiguous()
    return Picture(rgb=rgb, alpha=alpha, bit_depth=bits)
