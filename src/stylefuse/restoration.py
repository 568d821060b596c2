"""Image restoration with a conditional model: ``stylefuse.restore(picture, task) -> PIL.Image``.

Tasks of the shipped model (``stylefuse/weights/restore``): ``denoise`` (Gaussian or Poisson noise; give the
σ in 8-bit units as ``level``, or let the network estimate it), ``sr2`` / ``sr4`` (sharpen an image that was
enlarged 2x / 4x by bicubic interpolation: enlarge first, at the size wanted), ``inpaint`` (fill the white
pixels of ``mask``) and ``enhance`` (brighten a low-light photo). Any model folder of ``stylefuse train
conditional`` or ``stylefuse adapt`` serves its own tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from stylefuse.errors import OptionError
from stylefuse.image.io import DEFAULT_MAX_PIXELS, as_picture, to_pil

SHIPPED_MODEL = Path(__file__).resolve().parent / "weights" / "restore"
"""The restoration model that ships with stylefuse (recipe in ``weights/README.md``)."""


def read_mask(mask: Any, size: tuple[int, int], max_pixels: int = DEFAULT_MAX_PIXELS):
    """A mask (path, PIL image, array or tensor; white = missing) as (1, H, W) in {0, 1}.

    Args:
        size: (width, height) of the image the mask belongs to; a mask of another size is refused.
    """
    picture = as_picture(mask, max_pixels)
    if picture.size != tuple(size):
        raise OptionError(f"the mask is {picture.size[0]}x{picture.size[1]} but the image is {size[0]}x{size[1]}; "
                          "give a mask of the image's size (white = missing)")
    return (picture.rgb.mean(0, keepdim=True) > 0.5).float()


def restore(picture: Any, task: str, model: Any = None, mask: Any = None, level: float | None = None,
            max_pixels: int = DEFAULT_MAX_PIXELS, device: str = "cpu", phases: int | None = None) -> Image.Image:
    """Restore ``picture`` with one task of a conditional model.

    Args:
        picture: path, PIL image, array (H, W[, C]) or tensor (3, H, W) in [0, 1].
        task: ``denoise``, ``sr2``, ``sr4``, ``inpaint``, ``enhance``, or another task of ``model``.
        model: a conditional model folder (None: the shipped restoration model).
        mask: for ``inpaint``: an image of the picture's size, white where pixels are missing.
        level: for ``denoise``: the noise σ in 8-bit units (None: estimated).
        max_pixels: refuse larger images.
        device: where to run.
        phases: 1 (fast) or 4 (the network averaged over four one-pixel shifts, four times slower); None: 4
            for denoising, where it gains most, else 1.

    Returns:
        The restored RGB image, at the picture's size (alpha, if any, is carried over).

    Raises:
        OptionError: an unknown task, a model without it, a missing or ill-sized mask (one line).

    Example:
        >>> import stylefuse
        >>> stylefuse.restore("noisy.png", "denoise", level=25).save("clean.png")  # doctest: +SKIP
    """
    from stylefuse import hub
    from stylefuse.methods.conditional import ConditionalStylizer

    folder = SHIPPED_MODEL if model is None else Path(model)
    stylizer = hub.load(folder, method="conditional", task=task, level=level, device=device, phases=phases)
    if not isinstance(stylizer, ConditionalStylizer):
        raise OptionError(f"{folder} is not a conditional model")
    image = as_picture(picture, max_pixels)
    if task == "inpaint" and mask is None:
        raise OptionError("inpainting needs a mask (white = missing): pass --mask M")
    holes = None if mask is None else read_mask(mask, image.size, max_pixels)
    return to_pil(stylizer.run(image.rgb, holes), image.alpha)
