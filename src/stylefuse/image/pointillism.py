"""A procedural pointillism filter (after Seurat): the photo redrawn as round, overlapping dots of
saturated, pastel colour (pigment mixed with white), sampled from the photo on a jittered grid, over a
pale canvas. It gives a known target for image-translation experiments (photo -> pointillism) with any
number of training pairs.

The dot positions are random, so no generator can predict them; the defaults keep that random part
small against the deterministic one (the palette, the lifted shadows, the loss of fine detail): dense
overlapping dots, colours taken from a slightly blurred photo and little colour jitter, so that two
draws of the filter are closer to each other than the photo is to either, and a learner of the filter
can beat doing nothing (measurements in docs/benchmarks.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stylefuse.image import ops


def pointillism(image: torch.Tensor, spacing: int = 4, radius: float = 3.2, saturation: float = 2.0,
                lift: float = 0.25, jitter: float = 0.05, colour_blur: int = 3, canvas: float = 0.85,
                seed: int = 0) -> torch.Tensor:
    """Redraw ``image`` as dots.

    Args:
        image: (3, H, W) in [0, 1].
        spacing: distance between dot centres in pixels (one dot per grid cell, jittered inside it).
        radius: dot radius in pixels.
        saturation: chroma gain of the dot colours (Seurat's pure pigments).
        lift: share of white mixed into every dot colour (pastel tones, no black).
        jitter: standard deviation of a per-dot random colour shift.
        colour_blur: side of the box blur (odd, pixels) applied to the photo before sampling dot colours.
        canvas: brightness of the canvas between the dots, mixed with the local colour.
        seed: dot positions and colour jitter.

    Returns:
        (3, H, W) in [0, 1].
    """
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an image (3, H, W), got {tuple(image.shape)}")
    if colour_blur < 1 or colour_blur % 2 == 0:
        raise ValueError(f"colour_blur must be an odd number of pixels, got {colour_blur}")
    generator = torch.Generator().manual_seed(seed)
    _, height, width = image.shape
    rows, cols = -(-height // spacing), -(-width // spacing)
    # dot centres: one per cell, uniformly placed inside it
    centre_y = (torch.arange(rows)[:, None] + torch.rand(rows, cols, generator=generator)) * spacing
    centre_x = (torch.arange(cols)[None, :] + torch.rand(rows, cols, generator=generator)) * spacing
    colours = _dot_colours(_box_blur(image, colour_blur), centre_y, centre_x, saturation, lift, jitter,
                           generator)  # (3, rows, cols)

    ys = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width) + 0.5
    xs = torch.arange(width, dtype=torch.float32)[None, :].expand(height, width) + 0.5
    cell_y, cell_x = (ys // spacing).long(), (xs // spacing).long()
    best = torch.full((height, width), float("inf"))
    out = _canvas(image, canvas)
    for dy in (-1, 0, 1):  # the nearest dot lies in this cell or a neighbouring one
        for dx in (-1, 0, 1):
            ny, nx = (cell_y + dy).clamp(0, rows - 1), (cell_x + dx).clamp(0, cols - 1)
            distance = (ys - centre_y[ny, nx]) ** 2 + (xs - centre_x[ny, nx]) ** 2
            closer = (distance < best) & (distance <= radius**2)
            best = torch.where(closer, distance, best)
            out = torch.where(closer[None], colours[:, ny, nx], out)
    return out.clamp(0, 1)


def _dot_colours(image: torch.Tensor, centre_y: torch.Tensor, centre_x: torch.Tensor, saturation: float,
                 lift: float, jitter: float, generator: torch.Generator) -> torch.Tensor:
    _, height, width = image.shape
    grid = torch.stack([centre_x / width * 2 - 1, centre_y / height * 2 - 1], dim=-1)[None]
    sampled = F.grid_sample(image[None], grid, mode="bilinear", align_corners=False)[0]
    yiq = ops.rgb_to_yiq(sampled)
    yiq[1:] = yiq[1:] * saturation
    colours = lift + (1 - lift) * ops.yiq_to_rgb(yiq).clamp(0, 1)
    return colours + jitter * torch.randn(colours.shape, generator=generator)


def _box_blur(image: torch.Tensor, side: int) -> torch.Tensor:
    """Mean over a ``side`` x ``side`` window (shrinking at the borders); side 1 returns ``image``."""
    if side <= 1:
        return image
    return F.avg_pool2d(image[None], side, stride=1, padding=side // 2, count_include_pad=False)[0]


def _canvas(image: torch.Tensor, brightness: float) -> torch.Tensor:
    """A pale canvas tinted by a heavy blur of the photo."""
    return brightness + (1 - brightness) * _box_blur(image, 9)
