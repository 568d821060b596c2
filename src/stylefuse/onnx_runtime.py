"""ONNX Runtime without PyTorch: one way to open a session, run a network at the sizes it takes, and find
the ONNX export of a model folder's weights in the cache.

An exported network (``stylefuse export``, or the fast stylizer's cached export) records in its metadata the
multiple its height and width must be and the smallest size it takes; :class:`OnnxNetwork` pads the image by
reflection to fit (like :func:`stylefuse.image.ops.pad_to_multiple`) and crops the result back.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Callable

import numpy as np

from stylefuse.errors import OptionError
from stylefuse.fileutil import atomic_write, cache_dir

INSTALL_HINT = "pip install 'stylefuse[onnx]'"
FAST_EXPORTS = {"style": "fast_stylizer", "tables": "fast_stylizer-tables", "painting": "fast_stylizer-painting"}
"""Cached exports of the fast network (:func:`cached_export` names): with style weights, with flat tables, and
its style predictor (painting -> tables); the PyTorch backend and the instant command line share them."""


def has_onnxruntime() -> bool:
    """True when ONNX Runtime is installed (checked without importing it)."""
    return importlib.util.find_spec("onnxruntime") is not None


def default_threads() -> int | None:
    """Intra-op threads when none are asked for: ``$OMP_NUM_THREADS`` (which PyTorch follows too), else None
    (ONNX Runtime's default, one per physical core)."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def session(model: bytes | str | os.PathLike, threads: int | None = None, spinning: bool = True):
    """An ONNX Runtime CPU session of a model (its bytes or a file).

    Args:
        threads: intra-op threads (None: :func:`default_threads`).
        spinning: let idle worker threads spin for the next piece of work (ONNX Runtime's default); a process
            that runs the network once gains nothing from it and, on a busy CPU, loses much (docs/benchmarks.md).

    Raises:
        OptionError: ONNX Runtime is missing, or the model cannot be loaded.
    """
    try:
        import onnxruntime
    except ImportError:
        raise OptionError(f"running ONNX files needs ONNX Runtime: {INSTALL_HINT}") from None
    options = onnxruntime.SessionOptions()
    threads = threads or default_threads()
    if threads:
        options.intra_op_num_threads = threads
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    try:
        return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own exception types
        what = "the model" if isinstance(model, bytes) else model
        raise OptionError(f"cannot load {what} with ONNX Runtime ({str(exc).splitlines()[0]})") from None


def pad_to_multiple(images: np.ndarray, multiple: int, minimum: int = 0) -> np.ndarray:
    """Pad (B, C, H, W) at the bottom and right up to multiples of ``multiple`` of at least ``minimum``, by
    reflection when the image is larger than the padding, else by repeating the edge (the rule of
    :func:`stylefuse.image.ops.pad_to_multiple` with ``reflect=True``)."""
    height, width = images.shape[-2:]
    pad_h = max(minimum - height, 0) + (-max(height, minimum)) % multiple
    pad_w = max(minimum - width, 0) + (-max(width, minimum)) % multiple
    if not (pad_h or pad_w):
        return images
    mode = "reflect" if pad_h < height and pad_w < width else "edge"
    return np.pad(images, [(0, 0), (0, 0), (0, pad_h), (0, pad_w)], mode=mode)


class OnnxNetwork:
    """An ONNX image network in a session, run at any size (padded to what its metadata asks, cropped back).

    Args:
        model: the ONNX file or its bytes.
        threads: intra-op threads (None: ONNX Runtime's default).
        spinning: see :func:`session`.

    Attributes:
        input_names: the model's inputs, in order (the first is the image).
        metadata: the model's custom metadata (``multiple``, ``minimum``, ``style_names``, ...).
    """

    def __init__(self, model: bytes | str | os.PathLike, threads: int | None = None, spinning: bool = True) -> None:
        self.session = session(model, threads, spinning)
        self.input_names = tuple(item.name for item in self.session.get_inputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.multiple = int(self.metadata.get("multiple", 1))
        self.minimum = int(self.metadata.get("minimum", 0))

    def run(self, image: np.ndarray, **feeds: np.ndarray) -> np.ndarray:
        """(B, 3, H, W) float32 and the other inputs by name -> the first output cropped to (B, C, H, W)."""
        height, width = image.shape[-2:]
        padded = pad_to_multiple(np.ascontiguousarray(image, dtype=np.float32), self.multiple, self.minimum)
        return self.session.run(None, {self.input_names[0]: padded, **feeds})[0][:, :, :height, :width]


def weights_digest(weights: Path) -> str:
    """A short hash of a weights file: the key of its exports in the cache."""
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]


def cached_export(network: str, weights: Path, build: Callable[[], bytes] | None = None) -> Path | None:
    """The cached ONNX export of ``network`` with the weights file ``weights``, keyed by the weights' hash.

    Args:
        build: makes the export's bytes when it is not cached yet (it is then written atomically); None: only
            look.

    Returns:
        The file, or None when it is not cached and ``build`` is None.
    """
    path = cache_dir() / "onnx" / f"{network}-{weights_digest(weights)}.onnx"
    if path.is_file():
        return path
    if build is None:
        return None
    model = build()
    return atomic_write(path, lambda target: target.write_bytes(model))
