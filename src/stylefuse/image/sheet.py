"""Contact sheets: labelled images on a grid (built-in style sheets, benchmark comparisons)."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from PIL import Image, ImageDraw, ImageFont

from stylefuse.image import ops
from stylefuse.image.io import to_pil

LABEL_HEIGHT = 18
GAP = 4


def contact_sheet(cells: Sequence[tuple[str, torch.Tensor]], columns: int | None = None,
                  cell_size: int = 256) -> Image.Image:
    """Lay out labelled images on a white grid.

    Args:
        cells: (label, image (3, H, W) in [0, 1]) pairs, in reading order; each image is scaled so its
            long side is ``cell_size`` and centred in its cell (cells are as tall as the tallest image).
        columns: images per row (default: a near-square grid).
        cell_size: long side of each image in pixels.

    Returns:
        An RGB PIL image.
    """
    if not cells:
        raise ValueError("a contact sheet needs at least one image")
    columns = columns or math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / columns)
    tiles = [to_pil(ops.resize_long_side(image.clamp(0, 1), cell_size).clamp(0, 1)) for _, image in cells]
    cell_height = max(tile.height for tile in tiles)
    step_x, step_y = cell_size + GAP, cell_height + LABEL_HEIGHT + GAP
    sheet = Image.new("RGB", (columns * step_x + GAP, rows * step_y + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, ((label, _), tile) in enumerate(zip(cells, tiles)):
        x0, y0 = GAP + (index % columns) * step_x, GAP + (index // columns) * step_y
        sheet.paste(tile, (x0 + (cell_size - tile.width) // 2, y0 + (cell_height - tile.height) // 2))
        draw.text((x0 + 2, y0 + cell_height + 3), label[:40], fill="black", font=font)
    return sheet
