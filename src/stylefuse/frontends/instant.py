"""The instant command line: ``stylefuse stylize photo.jpg --style starry-night`` without importing PyTorch.

Importing PyTorch takes longer than stylizing a photo with the built-in network (README, "Command line"). When
ONNX Runtime is installed and a ``stylize`` call asks for nothing but built-in styles (names and weights) or,
with ``--method fast``, paintings, plus ``--strength`` and ``--threads``, this path decodes the image with PIL
into NumPy (:mod:`stylefuse.image.arrays`), computes the style input in NumPy (the style-weight vector,
:func:`stylefuse.styles.style_weights`, or a painting's tables from the style predictor's export, cached by the
painting's content), runs the network's ONNX export in ONNX Runtime (:mod:`stylefuse.onnx_runtime`) and encodes
the result: the same steps, and the same numbers, as the PyTorch path with the fast stylizer's ONNX Runtime
backend. Each export is made once, with PyTorch, by the first call that needs it, and cached under
``$STYLEFUSE_CACHE`` by the hash of the weights; later calls never import PyTorch. Every other request returns
None here and takes the normal path.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np

from stylefuse.builtin import STYLES_FOLDER, builtin_style_names
from stylefuse.content_cache import TABLES_FOLDER, ContentCache, pixels_key
from stylefuse.fileutil import cache_dir
from stylefuse.frontends.inputs import Process, run_over_inputs
from stylefuse.frontends.instant_args import InstantRequest
from stylefuse.image.arrays import DEFAULT_MAX_PIXELS, READ_SUFFIXES, read_pixels, resize_long_side_array, write_pixels
from stylefuse.onnx_runtime import FAST_EXPORTS, OnnxNetwork, cached_export, has_onnxruntime, session, weights_digest
from stylefuse.styles import is_style_name, parse_style_argument, split_style_list, style_weights

BACKEND_VARIABLE = "STYLEFUSE_BACKEND"
"""Environment variable: ``torch`` sends every request through the normal path (benchmarks compare both)."""
WEIGHTS = STYLES_FOLDER / "model.safetensors"


class InstantStylizer:
    """The built-in multi-style network in ONNX Runtime, with a fixed style input and strength.

    Args:
        model: the network's ONNX file: inputs ``image`` (B, 3, H, W) in [0, 1] and either ``style`` (B, S)
            style weights or ``tables`` (B, D) flat tables.
        style: {input name: value}, the style input (``style`` or ``tables``) with a batch of one.
        strength: style strength 0..1: the result is blended with the photo, as
            :class:`stylefuse.api.Job` does for the fast stylizer.
        threads: ONNX Runtime intra-op threads (None: its default, one per physical core).
    """

    def __init__(self, model: Path, style: dict[str, np.ndarray], strength: float | None = None,
                 threads: int | None = None) -> None:
        self.network = OnnxNetwork(model, threads, spinning=False)  # one run per process: no idle spinning
        self.style = {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in style.items()}
        self.strength = strength

    def stylize(self, rgb: np.ndarray) -> np.ndarray:
        """(3, H, W) float32 in [0, 1] -> (3, H, W) float32 in [0, 1]."""
        out = np.clip(self.network.run(rgb[None], **self.style)[0], 0, 1)
        if self.strength is not None and self.strength < 1.0:
            out = np.clip(self.strength * out + (1 - self.strength) * rgb, 0, 1)
        return out

    def process(self, max_pixels: int) -> Process:
        """A ``process(source, target)`` for :func:`stylefuse.frontends.inputs.run_over_inputs` (the alpha is
        kept)."""

        def process(source: Path, target: Path) -> tuple[tuple[int, int], bool]:
            pixels = read_pixels(source, max_pixels)
            write_pixels(target, self.stylize(pixels.rgb), pixels.alpha)
            return (pixels.rgb.shape[2], pixels.rgb.shape[1]), False

        return process


def instant_stylizer(content: Path, styles: Sequence[str], strength: float | None = None,
                     threads: int | None = None, method: str | None = None) -> InstantStylizer | None:
    """The instant stylizer of a ``stylize`` request, or None when the request needs the normal path.

    It runs built-in style names (mixed by weight) and, with ``method="fast"``, paintings (image files, mixed by
    weight; their tables predicted once and cached by content, in the file the PyTorch path uses). None for:
    ONNX Runtime missing, ``STYLEFUSE_BACKEND=torch``, content that is not an image file or folder (a video),
    styles that are neither (unknown names, a painting for another method, names mixed with paintings) or
    invalid weights: the normal path then runs or says what is wrong. The caller checks that no other option
    (model, masks, regions, size, ...) was given.
    """
    if os.environ.get(BACKEND_VARIABLE, "").lower() == "torch" or not has_onnxruntime():
        return None
    if not (content.is_dir() or content.suffix.lower() in READ_SUFFIXES):
        return None
    names, mix = builtin_style_names(), _mix(styles)
    if not mix or not names or any(weight < 0 for _, weight in mix) or sum(weight for _, weight in mix) <= 0:
        return None
    if all(is_style_name(image) and image in names for image, _ in mix):
        model = cached_export(FAST_EXPORTS["style"], WEIGHTS, lambda: _export("style"))
        return InstantStylizer(model, {"style": style_weights(names, mix)[None]}, strength, threads)
    if method == "fast" and all(_is_painting(image) for image, _ in mix):
        model = cached_export(FAST_EXPORTS["tables"], WEIGHTS, lambda: _export("tables"))
        return InstantStylizer(model, {"tables": painting_tables(mix, threads)}, strength, threads)
    return None


def painting_tables(mix: Sequence[tuple[str, float]], threads: int | None = None) -> np.ndarray:
    """The flat tables (1, D) of paintings mixed by weight: each painting's from the style predictor's ONNX export
    (VGG16 statistics at the predictor's style size; ``methods.fast._Runner.painting_tables`` in PyTorch), cached
    by the painting's pixels in the cache file the PyTorch path reads and writes."""
    predictor = _Predictor(threads)
    cache = ContentCache(cache_dir() / TABLES_FOLDER)
    digest = weights_digest(WEIGHTS)
    total = sum(weight for _, weight in mix)
    parts = []
    for path, weight in mix:
        rgb = read_pixels(path).rgb
        parts.append(weight / total * cache.get(f"{digest}-{pixels_key(rgb)}", partial(predictor, rgb))["tables"])
    return np.sum(parts, axis=0, dtype=np.float32)


class _Predictor:
    """The style predictor's ONNX export in a session opened on first use: (3, H, W) painting -> {"tables"}."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.session = None
        self.side = 0  # the predictor's style size, from the export's metadata

    def __call__(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        if self.session is None:
            model = cached_export(FAST_EXPORTS["painting"], WEIGHTS, lambda: _export("painting"))
            self.session = session(model, self.threads, spinning=False)
            self.side = int(self.session.get_modelmeta().custom_metadata_map["style_size"])
        return {"tables": self.session.run(None, {"painting": resize_long_side_array(rgb, self.side)[None]})[0]}


def run_instant(request: InstantRequest | None) -> int | None:
    """Run a parsed command line (:func:`stylefuse.frontends.instant_args.parse_instant`) on the instant path:
    its exit status, or None when it needs the normal path (see :func:`instant_stylizer`)."""
    stylizer = None if request is None else instant_stylizer(request.content, request.styles, request.strength,
                                                             request.threads, request.method)
    if stylizer is None:
        return None
    protected = [Path(image) for image, _ in _mix(request.styles) if _is_painting(image)]
    return run_over_inputs(request.content, request.output, protected, request.overwrite_input,
                           stylizer.process(request.max_pixels or DEFAULT_MAX_PIXELS))


def _mix(styles: Sequence[str]) -> list[tuple[str, float]]:
    """(style, weight) pairs of ``--style`` texts (``a:0.6,b:0.4`` or one per option)."""
    specs = [parse_style_argument(text) for item in styles for text in split_style_list(item)]
    return [(spec.image, spec.weight) for spec in specs]


def _is_painting(style: str) -> bool:
    path = Path(style)
    return path.suffix.lower() in READ_SUFFIXES and path.is_file()


def _export(kind: str) -> bytes:
    """An ONNX export of the built-in fast network (``style``, ``tables`` or ``painting``: see
    :data:`stylefuse.onnx_runtime.FAST_EXPORTS`); imports PyTorch: only the first call makes it."""
    from stylefuse import hub
    from stylefuse.nn.export import onnx_bytes

    return onnx_bytes(hub.load(STYLES_FOLDER, backend="torch").runner.export_graph(kind))
