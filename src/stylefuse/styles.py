"""Named styles: multi-style feed-forward models (the shipped one and any trained with
``stylefuse train fast``), style-name resolution and mixing.

A style mix such as ``starry-night:0.6,the-scream:0.4`` becomes a weight vector over the model's styles,
which interpolates the per-style conditional-norm parameters, channel mixes and colour maps (Dumoulin et al. 2017,
section 4).

On the CPU the network runs in ONNX Runtime when it is installed (it is, as a dependency of the
encoder's weights package): measured 1.3x faster than PyTorch eager at 1024 px (benchmarks/fast.py).
The ONNX graph is exported once per model file and cached.
"""

from __future__ import annotations

import functools
import hashlib
import io
import warnings
from pathlib import Path
from typing import Sequence

import torch

from stylefuse.errors import OptionError
from stylefuse.hub import load_model

BUILTIN_FOLDER = Path(__file__).resolve().parent / "weights" / "styles"
"""The shipped multi-style model folder."""

BACKENDS = ("auto", "torch", "onnxruntime")


class FastStyleModel:
    """A multi-style stylizer loaded from a model folder.

    Args:
        folder: a ``fast_stylizer`` model folder (config.json lists ``style_names``).
        backend: "torch", "onnxruntime", or "auto" (ONNX Runtime on the CPU when available).
        device: "cpu" or "cuda" (the torch backend).
    """

    def __init__(self, folder: str | Path, backend: str = "auto", device: str = "cpu") -> None:
        if backend not in BACKENDS:
            raise OptionError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.folder = Path(folder)
        self.network, self.document = load_model(self.folder)
        if self.document["network"] != "fast_stylizer":
            raise OptionError(f"{self.folder} holds a {self.document.get('method', 'unknown')} model, not a "
                              "multi-style one; use `stylefuse translate --model` for it")
        self.names: list[str] = list(self.document.get("style_names") or [])
        self.device = torch.device(device)
        self.network.to(self.device)
        if backend == "auto":
            backend = "onnxruntime" if self.device.type == "cpu" and _has_onnxruntime() else "torch"
        self.backend = backend
        self._session = None

    # --- styles --------------------------------------------------------------------------------------

    def style_vector(self, mix: Sequence[tuple[str, float]]) -> torch.Tensor:
        """The (S,) weight vector of a mix of named styles, normalised to sum to 1.

        Args:
            mix: (name, weight) pairs; names must be among :attr:`names`, weights >= 0, not all zero.
        """
        vector = torch.zeros(len(self.names))
        for name, weight in mix:
            if name not in self.names:
                raise OptionError(f"unknown style {name!r}; known styles: {', '.join(self.names)}")
            if weight < 0:
                raise OptionError(f"style weight for {name!r} must be >= 0, got {weight}")
            vector[self.names.index(name)] += weight
        if float(vector.sum()) <= 0:
            raise OptionError("style weights are all zero; give at least one style a positive weight")
        return vector / vector.sum()

    # --- inference -----------------------------------------------------------------------------------

    @torch.no_grad()
    def stylize(self, rgb: torch.Tensor, style: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """Stylize (3, H, W) in [0, 1] with the (S,) style vector; ``strength`` in [0, 1] blends the
        result with the content. Returns (3, H, W) in [0, 1]."""
        if not 0.0 <= strength <= 1.0:
            raise OptionError(f"strength must be between 0 and 1, got {strength}")
        multiple = self.network.stride
        height, width = rgb.shape[-2:]
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        image = rgb[None]
        if pad_h or pad_w:  # reflection keeps instance-norm statistics close to the unpadded image's
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            image = torch.nn.functional.pad(image, [0, pad_w, 0, pad_h], mode=mode)
        out = self._run(image, style[None].float())[0, :, :height, :width]
        if strength < 1.0:
            out = strength * out + (1 - strength) * rgb
        return out.clamp(0, 1)

    def _run(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.backend == "onnxruntime":
            session = self._onnx_session()
            outputs = session.run(None, {"image": image.numpy(), "style": style.numpy()})
            return torch.from_numpy(outputs[0])
        return self.network(image.to(self.device), style.to(self.device)).cpu()

    def _onnx_session(self):
        if self._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            self._session = onnxruntime.InferenceSession(self._onnx_bytes(), options,
                                                         providers=["CPUExecutionProvider"])
        return self._session

    def _onnx_bytes(self) -> bytes:
        """The network as ONNX (dynamic batch and size), exported once and cached by weights hash."""
        from stylefuse.encoders.vgg import cache_dir
        from stylefuse.fileutil import atomic_write

        digest = hashlib.sha256((self.folder / "model.safetensors").read_bytes()).hexdigest()[:16]
        path = cache_dir() / "onnx" / f"fast_stylizer-{digest}.onnx"
        if path.is_file():
            return path.read_bytes()
        buffer = io.BytesIO()
        example = (torch.rand(1, 3, 64, 64), torch.full((1, len(self.names) or 1), 1.0))
        cpu_network = self.network.cpu()
        with warnings.catch_warnings():  # the exporter's notes on instance norm and slicing concern training
            warnings.simplefilter("ignore")
            torch.onnx.export(cpu_network, example, buffer, dynamo=False, input_names=["image", "style"],
                              output_names=["stylized"], opset_version=17,
                              dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "style": {0: "batch"}})
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda target: target.write_bytes(buffer.getvalue()))
        return buffer.getvalue()


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


@functools.lru_cache(maxsize=4)
def load_style_model(folder: str | None = None, backend: str = "auto") -> FastStyleModel:
    """The multi-style model of ``folder`` (None: the built-in one), loaded once per process."""
    return FastStyleModel(BUILTIN_FOLDER if folder is None else folder, backend=backend)


def builtin_style_names() -> list[str]:
    """Names of the built-in styles (empty when the package ships no style model)."""
    from stylefuse.hub import read_config

    if not (BUILTIN_FOLDER / "config.json").is_file():
        return []
    return list(read_config(BUILTIN_FOLDER).get("style_names") or [])
