"""Region masks: one soft mask per style, from mask images or from a label image.

A stack of K masks (K, H, W) in [0, 1] sums to at most 1 at every pixel; what no mask covers keeps the
content (feature-level masks of AdaIN/WCT) or goes to the last region when it is the complement.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from stylefuse.errors import OptionError
from stylefuse.image.io import as_picture


def mask_stack(masks: Sequence[Any], size: tuple[int, int], count: int) -> torch.Tensor:
    """(count, H, W) masks in [0, 1] from mask images (paths, PIL images, arrays or tensors; white = that style).

    Args:
        masks: ``count`` masks, or ``count - 1``, the last style then taking what the others leave.
        size: (H, W) of the content: every mask must have it.
        count: K, the number of styles.

    Overlapping masks share a pixel (their sum is scaled down to 1 there).
    """
    if len(masks) not in (count, count - 1):
        raise OptionError(f"give one mask per style ({count}), or one fewer; got {len(masks)}")
    planes = []
    for mask in masks:
        rgb = as_picture(mask).rgb
        if tuple(rgb.shape[-2:]) != tuple(size):
            raise OptionError(f"mask {_describe(mask)} is {rgb.shape[-1]}x{rgb.shape[-2]} but the content is "
                              f"{size[1]}x{size[0]}; masks must match the content image's size")
        planes.append(rgb.mean(0))
    stack = torch.stack(planes)
    stack = stack / stack.sum(0, keepdim=True).clamp_min(1.0)
    if len(masks) == count - 1:
        stack = torch.cat([stack, (1 - stack.sum(0, keepdim=True)).clamp(0, 1)])
    return stack


def label_stack(labels: torch.Tensor, count: int) -> torch.Tensor:
    """(count, H, W) one-hot masks of a label map (H, W): region i is the i-th smallest distinct value."""
    values = torch.unique(labels)
    if len(values) != count:
        raise OptionError(f"the label image has {len(values)} regions (distinct values) but {count} styles were "
                          "given; give one style per region")
    return torch.stack([(labels == value).float() for value in values])


def label_map(image: Any, size: tuple[int, int]) -> torch.Tensor:
    """The (H, W) labels of a label image (path, PIL image, array or tensor): its grey level, quantised to
    8 bits so that a JPEG's or a resize's noise does not make new regions; it must have the content's size."""
    rgb = as_picture(image).rgb
    if tuple(rgb.shape[-2:]) != tuple(size):
        raise OptionError(f"the label image {_describe(image)} is {rgb.shape[-1]}x{rgb.shape[-2]} but the content is "
                          f"{size[1]}x{size[0]}; it must match the content image's size")
    return torch.round(rgb.mean(0) * 255).to(torch.int64)


def _describe(mask: Any) -> str:
    return str(mask) if isinstance(mask, (str, bytes)) or hasattr(mask, "__fspath__") else "image"
