"""Contact sheets: grid layout, cell sizes, labels, and the empty case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylefuse.image.sheet import GAP, LABEL_HEIGHT, contact_sheet


def _flat(colour: tuple[float, float, float], height: int, width: int) -> torch.Tensor:
    return torch.tensor(colour)[:, None, None].expand(3, height, width).clone()


def test_a_near_square_grid_of_centred_images_with_labels() -> None:
    cells = [(f"c{i}", _flat((1.0, 0.0, 0.0), 32, 64)) for i in range(5)]  # 3 x 2 grid
    sheet = contact_sheet(cells, cell_size=40)
    assert sheet.mode == "RGB"
    cell_height = 20  # 32 x 64 scaled to a long side of 40
    assert sheet.size == (3 * (40 + GAP) + GAP, 2 * (cell_height + LABEL_HEIGHT + GAP) + GAP)
    pixels = np.asarray(sheet)
    assert tuple(pixels[GAP + 10, GAP + 20]) == (255, 0, 0)  # inside the first image
    assert tuple(pixels[0, 0]) == (255, 255, 255)  # the white margin
    label_band = pixels[GAP + cell_height + 1: GAP + cell_height + LABEL_HEIGHT, GAP: GAP + 40]
    assert (label_band < 128).any()  # the label is drawn in black
    last_row_empty_cell = pixels[-GAP - 5, -GAP - 5]
    assert tuple(last_row_empty_cell) == (255, 255, 255)


def test_columns_and_tall_images_are_centred_in_their_cells() -> None:
    cells = [("wide", _flat((0.0, 1.0, 0.0), 16, 32)), ("tall", _flat((0.0, 0.0, 1.0), 32, 16))]
    sheet = contact_sheet(cells, columns=1, cell_size=32)
    assert sheet.size == (32 + 2 * GAP, 2 * (32 + LABEL_HEIGHT + GAP) + GAP)
    pixels = np.asarray(sheet)
    assert tuple(pixels[GAP + 16, GAP + 16]) == (0, 255, 0)  # the wide image, centred vertically
    assert tuple(pixels[GAP + 2, GAP + 16]) == (255, 255, 255)  # above it: white
    second = GAP + 32 + LABEL_HEIGHT + GAP
    assert tuple(pixels[second + 16, GAP + 16]) == (0, 0, 255)
    assert tuple(pixels[second + 16, GAP + 2]) == (255, 255, 255)  # beside the tall one: white


def test_out_of_range_values_are_clamped_and_no_cells_is_an_error() -> None:
    sheet = contact_sheet([("hot", torch.full((3, 8, 8), 3.0))], cell_size=8)
    assert tuple(np.asarray(sheet)[GAP + 4, GAP + 4]) == (255, 255, 255)
    with pytest.raises(ValueError, match="at least one image"):
        contact_sheet([])
