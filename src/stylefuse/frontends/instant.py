"""The instant command line: ``stylefuse stylize photo.jpg --style starry-night`` without importing PyTorch.

Importing PyTorch takes longer than stylizing a photo with the built-in network (README, "Command line"). When
ONNX Runtime is installed and a ``stylize`` call asks for nothing but built-in styles (names and weights,
``--strength``, ``--threads``), this path decodes the image with PIL into NumPy (:mod:`stylefuse.image.arrays`),
computes the style-weight vector in NumPy (:func:`stylefuse.styles.style_weights`), runs the network's ONNX
export in ONNX Runtime (:mod:`stylefuse.onnx_runtime`) and encodes the result: the same steps, and the same
numbers, as the PyTorch path with the fast stylizer's ONNX Runtime backend. The export is made once, with
PyTorch, by the first call that needs it, and cached under ``$STYLEFUSE_CACHE`` by the hash of the weights;
later calls never import PyTorch. Every other request returns None here and takes the normal path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from stylefuse.builtin import STYLES_FOLDER, builtin_style_names
from stylefuse.frontends.inputs import Process, run_over_inputs
from stylefuse.frontends.instant_args import InstantRequest
from stylefuse.image.arrays import DEFAULT_MAX_PIXELS, READ_SUFFIXES, read_pixels, write_pixels
from stylefuse.onnx_runtime import OnnxNetwork, cached_export, has_onnxruntime
from stylefuse.styles import is_style_name, parse_style_argument, split_style_list, style_weights

BACKEND_VARIABLE = "STYLEFUSE_BACKEND"
"""Environment variable: ``torch`` sends every request through the normal path (benchmarks compare both)."""
NETWORK = "fast_stylizer"


class InstantStylizer:
    """The built-in multi-style network in ONNX Runtime, with a fixed style mix and strength.

    Args:
        model: the network's ONNX file (inputs ``image`` (B, 3, H, W) in [0, 1] and ``style`` (B, S)).
        names: the network's style names, in the order of its style weights.
        mix: (name, weight) pairs of the styles to mix.
        strength: style strength 0..1: the result is blended with the photo, as
            :class:`stylefuse.api.Job` does for the fast stylizer.
        threads: ONNX Runtime intra-op threads (None: its default, one per physical core).
    """

    def __init__(self, model: Path, names: Sequence[str], mix: Sequence[tuple[str, float]],
                 strength: float | None = None, threads: int | None = None) -> None:
        self.network = OnnxNetwork(model, threads, spinning=False)  # one run per process: no idle spinning
        self.style = style_weights(names, mix)[None]
        self.strength = strength

    def stylize(self, rgb: np.ndarray) -> np.ndarray:
        """(3, H, W) float32 in [0, 1] -> (3, H, W) float32 in [0, 1]."""
        out = np.clip(self.network.run(rgb[None], style=self.style)[0], 0, 1)
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
                     threads: int | None = None) -> InstantStylizer | None:
    """The instant stylizer of a ``stylize`` request that asks only for built-in styles, or None when the
    request needs the normal path: ONNX Runtime missing, ``STYLEFUSE_BACKEND=torch``, content that is not an
    image file or folder (a video), styles that are not all built-in names with valid weights (the normal path
    then says what is wrong).

    The caller checks that no other option (method, model, masks, regions, size, ...) was given.
    """
    if os.environ.get(BACKEND_VARIABLE, "").lower() == "torch" or not has_onnxruntime():
        return None
    if not (content.is_dir() or content.suffix.lower() in READ_SUFFIXES):
        return None
    names = builtin_style_names()
    specs = [parse_style_argument(text) for item in styles for text in split_style_list(item)]
    if not specs or not names or not all(is_style_name(spec.image) and spec.image in names for spec in specs):
        return None
    if any(spec.weight < 0 for spec in specs) or sum(spec.weight for spec in specs) <= 0:
        return None
    model = cached_export(NETWORK, STYLES_FOLDER / "model.safetensors", lambda: _export(STYLES_FOLDER))
    return InstantStylizer(model, names, [(spec.image, spec.weight) for spec in specs], strength, threads)


def run_instant(request: InstantRequest | None) -> int | None:
    """Run a parsed command line (:func:`stylefuse.frontends.instant_args.parse_instant`) on the instant path:
    its exit status, or None when it needs the normal path (see :func:`instant_stylizer`)."""
    stylizer = None if request is None else instant_stylizer(request.content, request.styles, request.strength,
                                                             request.threads)
    if stylizer is None:
        return None
    return run_over_inputs(request.content, request.output, [], request.overwrite_input,
                           stylizer.process(request.max_pixels or DEFAULT_MAX_PIXELS))


def _export(folder: Path) -> bytes:
    """The ONNX export of a fast model folder (imports PyTorch: only the first call makes it)."""
    from stylefuse import hub
    from stylefuse.nn.export import onnx_bytes

    return onnx_bytes(hub.load(folder, backend="torch").export_graph())
