"""Reading files of a model folder that anyone may have made: a file must lie inside its folder (no symlink out of
it), and a safetensors header is checked against the file before any tensor is read, so that a header declaring
a 10 GB tensor, a pickle or a truncated file is refused on one line and nothing is allocated or unpickled.

Format: an 8-byte little-endian header length, a JSON header ``{name: {"dtype", "shape", "data_offsets"}}``
(offsets relative to the end of the header), then the tensor bytes.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import torch

from stylefuse.errors import ModelFolderError

MAX_HEADER_BYTES = 100 * 2**20
"""safetensors' own limit on the JSON header."""
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
"""Bytes per element of the tensor types stylefuse reads."""


def file_in_folder(folder: Path, name: str) -> Path:
    """``folder / name`` resolved, refused when it is missing or resolves outside ``folder`` (a symlink out).

    Raises:
        ModelFolderError: missing, not a regular file, or outside the folder.
    """
    path = folder / name
    real, root = path.resolve(), folder.resolve()
    if not real.is_relative_to(root):
        raise ModelFolderError(f"{path} points outside its model folder (to {real}); copy the file into the folder")
    if not real.is_file():
        raise ModelFolderError(f"{folder} is not a model folder: {name} is missing")
    return real


def check_safetensors(path: Path) -> dict[str, Any]:
    """The parsed header of a safetensors file, checked against the file's size before any tensor is read.

    Raises:
        ModelFolderError: not a safetensors file (a pickle, a torch.save archive, truncated), an unknown dtype, or
            a tensor whose shape, dtype and offsets disagree or lie past the end of the file.
    """
    size = path.stat().st_size
    with open(path, "rb") as file:
        head = file.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else None
        if length is None or length > min(MAX_HEADER_BYTES, size - 8):
            raise ModelFolderError(f"{path} is not a safetensors file (a pickle or a torch checkpoint?); stylefuse "
                                  "reads weights only from safetensors files, which cannot hold code")
        try:
            header = json.loads(file.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError):
            header = None
    if not isinstance(header, dict):
        raise ModelFolderError(f"{path} is not a safetensors file: its header is not a JSON object")
    data_bytes = size - 8 - length
    for name, entry in header.items():
        if name != "__metadata__":
            _check_entry(path, name, entry, data_bytes)
    return header


def _check_entry(path: Path, name: str, entry: Any, data_bytes: int) -> None:
    try:
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        valid = (dtype in DTYPE_BYTES and all(isinstance(n, int) and n >= 0 for n in (*shape, begin, end))
                 and end - begin == math.prod(shape) * DTYPE_BYTES[dtype] and end <= data_bytes)
    except (TypeError, ValueError, KeyError):
        valid = False
    if not valid:
        declared = json.dumps(entry)[:120]
        raise ModelFolderError(f"{path}: tensor {name!r} is damaged or lies past the end of the file ({declared}); "
                              "the file is truncated or was tampered with")


def read_safetensors(path: Path, checked: bool = False) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, after :func:`check_safetensors` (skipped when the caller ``checked``
    the header already).

    Raises:
        ModelFolderError: see :func:`check_safetensors`, or the library refused the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not checked:
        check_safetensors(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise ModelFolderError(f"{path} is not a readable safetensors file ({exc})") from None
