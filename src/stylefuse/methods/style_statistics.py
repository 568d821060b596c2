"""Compact descriptors of the styles a multi-style model knows: the channel means and standard
deviations of VGG16 features at the style layers (the statistics AdaIN matches, Huang & Belongie 2017),
saved next to the weights. A new style then starts from the nearest known one by comparing
descriptors, without running the network (``Personalize.warm_start``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from stylefuse.losses import functional as LF

STATISTICS_FILE = "style_statistics.safetensors"
"""The descriptor file of a model folder: per style layer a (S, 2, C) tensor of means and stds."""

Descriptor = dict[str, torch.Tensor]
"""Style layer -> (2, C) channel means and standard deviations of one style."""


def describe(features: dict[str, torch.Tensor]) -> Descriptor:
    """The descriptor of one image from its features {layer: (1, C, h, w)}."""
    return {name: torch.cat(LF.mean_std(value)) for name, value in features.items()}


def mean_descriptor(descriptors: list[Descriptor]) -> Descriptor:
    """The descriptor of a style given by several images: the mean of theirs."""
    return {name: torch.stack([d[name] for d in descriptors]).mean(0) for name in descriptors[0]}


def stack(descriptors: list[Descriptor]) -> Descriptor:
    """A table {layer: (S, 2, C)} of S styles' descriptors."""
    return {name: torch.stack([d[name] for d in descriptors]) for name in descriptors[0]}


def append(table: Descriptor, descriptor: Descriptor) -> Descriptor:
    """``table`` with one more style, last."""
    return {name: torch.cat([rows, descriptor[name][None].to(rows)]) for name, rows in table.items()}


def nearest(table: Descriptor, descriptor: Descriptor) -> int:
    """Index of the style in ``table`` closest to ``descriptor``: the sum over layers of the squared
    difference relative to the descriptor's own squared norm (so that every layer counts alike)."""
    distance = sum(((rows - descriptor[name]) ** 2).sum(dim=(1, 2)) / descriptor[name].pow(2).sum().clamp_min(1e-12)
                   for name, rows in table.items())
    return int(torch.argmin(distance))


def save_statistics(folder: str | Path, table: Descriptor) -> Path:
    """Write ``table`` into a model folder (fp16, like the weights)."""
    from safetensors.torch import save_file

    from stylefuse.fileutil import atomic_write

    path = Path(folder) / STATISTICS_FILE
    tensors = {name: rows.detach().cpu().half().contiguous() for name, rows in table.items()}
    atomic_write(path, lambda target: save_file(tensors, str(target)))
    return path


def load_statistics(folder: str | Path, styles: int) -> Descriptor | None:
    """The descriptor table of a model folder with ``styles`` styles; None when the folder has none or
    it does not describe that many styles (then callers fall back to scoring the styles)."""
    from stylefuse.safe_files import file_in_folder, read_safetensors

    if not (Path(folder) / STATISTICS_FILE).is_file():
        return None
    stored = read_safetensors(file_in_folder(Path(folder), STATISTICS_FILE))  # a model folder may come from anyone
    table = {name: rows.float() for name, rows in stored.items()}
    if not table or any(rows.ndim != 3 or rows.shape[:2] != (styles, 2) for rows in table.values()):
        return None
    return table
