"""Values computed from a style image, keyed by the image's pixels: in memory and as safetensors files, so the
same painting is encoded once whatever the number of calls or processes.

One helper for every such cache (the fast network's predicted tables, AdaIN/WCT style statistics), and free of
PyTorch so the instant command line (:mod:`stylefuse.frontends.instant`) shares the fast network's entries.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

Arrays = dict[str, np.ndarray]
TABLES_FOLDER = "fast_tables"
"""Folder (in the cache folder) of the fast network's predicted tables of paintings, one file per (weights,
painting): the PyTorch path and the instant command line share it."""


def pixels_key(rgb: np.ndarray) -> str:
    """The key of an image (C, H, W) float in [0, 1]: a hash of its shape and its 8-bit pixels, so a painting
    decoded by the PyTorch path and by the NumPy one (same values) has the same key."""
    pixels = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return hashlib.sha256(str(tuple(pixels.shape)).encode() + np.ascontiguousarray(pixels).tobytes()).hexdigest()[:24]


class ContentCache:
    """Arrays per key, in memory (the ``memory_limit`` newest) and in ``folder`` (None: memory only).

    A damaged file is recomputed, never fatal; files are written atomically, so concurrent processes at worst
    compute the same value twice.
    """

    def __init__(self, folder: Path | None = None, memory_limit: int = 64) -> None:
        self.folder = folder
        self.memory_limit = memory_limit
        self.memory: dict[str, Arrays] = {}
        self.computed = 0
        """How many values were computed (cache misses; for tests and reports)."""

    def get(self, key: str, compute: Callable[[], Arrays]) -> Arrays:
        """The arrays stored under ``key``, computing (and storing) them with ``compute`` when missing."""
        if key in self.memory:
            return self.memory[key]
        path = self.folder / f"{key}.safetensors" if self.folder is not None else None
        arrays = _read(path) if path is not None else None
        if arrays is None:
            self.computed += 1
            arrays = {name: np.ascontiguousarray(value) for name, value in compute().items()}
            if path is not None:
                _write(path, arrays)
        if len(self.memory) >= self.memory_limit:
            self.memory.pop(next(iter(self.memory)))
        self.memory[key] = arrays
        return arrays


def _read(path: Path) -> Arrays | None:
    from safetensors.numpy import load_file

    if not path.is_file():
        return None
    try:
        return load_file(str(path))
    except Exception:  # a damaged cache entry is recomputed
        return None


def _write(path: Path, arrays: Arrays) -> None:
    from safetensors.numpy import save_file

    from stylefuse.fileutil import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda target: save_file(arrays, str(target)))
