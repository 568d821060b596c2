"""Multi-image fusion (``stylefuse fuse-images``): several photos of one scene become one picture (a panorama,
an exposure fusion or a focus stack), which may then be stylized as one image through the normal API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from stylefuse.errors import FusionError
from stylefuse.image.io import DEFAULT_MAX_PIXELS, Picture, as_picture

MODES = ("panorama", "exposure", "focus")
MODE_OPTIONS = {"panorama": ("stitch_mode", "confidence"), "exposure": ("align",), "focus": ("align",)}
"""The options each mode takes (given to another mode they are refused, not ignored)."""


def fuse_images(images: Sequence[Any], mode: str, max_pixels: int = DEFAULT_MAX_PIXELS,
                **options: Any) -> torch.Tensor:
    """Fuse photos of one scene into one image.

    Args:
        images: paths, PIL images, arrays or tensors (3, H, W) in [0, 1]; at least two.
        mode: ``panorama`` (:func:`.panorama.stitch`: overlapping views, any order), ``exposure``
            (:func:`.exposure.fuse_exposures`: bracketed shots of one size) or ``focus``
            (:func:`.focus.focus_stack`: shots focused at different depths, of one size).
        **options: the mode's options (:data:`MODE_OPTIONS`): ``stitch_mode``, ``confidence``, ``align``.

    Returns:
        (3, H', W') in [0, 1].
    """
    if mode not in MODES:
        raise FusionError(f"unknown --mode {mode!r}; choose from {', '.join(MODES)}")
    foreign = sorted(set(options) - set(MODE_OPTIONS[mode]))
    if foreign:
        shown = ", ".join("--" + key.replace("_", "-") for key in foreign)
        raise FusionError(f"--mode {mode} does not take {shown}")
    if len(images) < 2:
        raise FusionError(f"--mode {mode} needs at least two images, got {len(images)}")
    names = [Path(image).name if isinstance(image, (str, os.PathLike)) else str(index + 1)
             for index, image in enumerate(images)]
    pictures = [as_picture(image, max_pixels).rgb for image in images]
    if mode == "panorama":
        from stylefuse.fusion.panorama import stitch

        return stitch(pictures, names, **options)
    sizes = {tuple(picture.shape[-2:]) for picture in pictures}
    if len(sizes) != 1:
        listed = ", ".join(f"{name} {picture.shape[-1]}x{picture.shape[-2]}" for name, picture in zip(names, pictures))
        raise FusionError(f"the shots of an {mode} fusion must have one size ({listed})")
    if mode == "exposure":
        from stylefuse.fusion.exposure import fuse_exposures

        return fuse_exposures(pictures, **options)
    from stylefuse.fusion.focus import focus_stack

    return focus_stack(pictures, names=names, **options)


def fuse_and_stylize(images: Sequence[Any], mode: str, style: Any = None, method: str | None = None,
                     model: Any = None, strength: float | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
                     wiring: Mapping[str, Any] | None = None, method_options: Mapping[str, Any] | None = None,
                     **options: Any) -> Picture:
    """:func:`fuse_images`, then, when ``style`` or ``model`` is given, :func:`stylefuse.api.prepare`'s job on
    the fused picture as one image (its options as in :func:`stylefuse.api.stylize`)."""
    fused = Picture(rgb=fuse_images(images, mode, max_pixels, **options))
    if style is None and model is None:
        return fused
    from stylefuse.api import prepare

    job = prepare(style, method, model, strength, max_pixels=max_pixels, wiring=wiring, **dict(method_options or {}))
    return job.run(fused)
