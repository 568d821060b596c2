"""Run a network exported by ``stylefuse export`` with ONNX Runtime, without its model folder or PyTorch
weights: ``stylefuse stylize photo.jpg --method onnx --set file=fast.onnx -s starry-night``.

The file's inputs say what it is: ``image`` alone (a generator), ``image`` + ``style`` weights (a
multi-style network; its metadata names the styles) or ``image`` + ``style`` image + ``strength``
(AdaIN). Its metadata also gives the multiple its height and width must be (the image is padded by
reflection and cropped back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from stylefuse.errors import OptionError
from stylefuse.image import ops
from stylefuse.methods._base import NO_STYLE, STYLE_IMAGES, STYLE_NAMES, Stylizer
from stylefuse.registry import METHODS
from stylefuse.styles import style_weights

KINDS = {("image",): NO_STYLE, ("image", "style"): STYLE_NAMES, ("image", "style", "strength"): STYLE_IMAGES}
"""The input names of each kind of exported network and the styles it takes."""


@METHODS.register("onnx")
class ExportedStylizer(Stylizer):
    """An exported network (``stylefuse export``) run by ONNX Runtime.

    Args:
        file: the .onnx file.
        strength: style strength 0..1 (AdaIN mixes features; for the others the front end blends the result
            with the photo, see :attr:`native_strength`).
        size: long side of the result in pixels (None keeps the content's size).
        style_size: long side a painting is encoded at (AdaIN files).

    :attr:`style_input` is set from the file (see :data:`KINDS`).
    """

    style_input = NO_STYLE

    def __init__(self, file: Path | None = None, strength: float = 1.0, size: int | None = None,
                 style_size: int = 512) -> None:
        from stylefuse.onnx_runtime import OnnxNetwork

        if file is None or not Path(file).is_file():
            raise OptionError(f"--method onnx needs an exported file: --set file=PATH.onnx (got {file})")
        if not 0.0 <= strength <= 1.0:
            raise OptionError(f"strength must be between 0 and 1, got {strength}")
        self.network = OnnxNetwork(file, torch.get_num_threads())
        inputs = self.network.input_names
        if inputs not in KINDS:
            raise OptionError(f"{file} was not written by `stylefuse export` (inputs {', '.join(inputs)})")
        self.style_input = KINDS[inputs]
        self.names: list[str] = json.loads(self.network.metadata.get("style_names", "[]"))
        self.strength, self.size, self.style_size = strength, size, style_size

    @property
    def native_strength(self) -> bool:
        """Only an AdaIN file mixes features by strength; the others' results are blended with the photo."""
        return self.style_input == STYLE_IMAGES

    def default_styles(self) -> list[tuple[Any, float]]:
        return [(self.names[0], 1.0)] if len(self.names) == 1 else []

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """(3, H, W) in [0, 1] -> (3, H', W') in [0, 1] with the styles the file takes (see the module)."""
        weights = [1.0] * len(styles) if weights is None else list(weights)
        if self.size is not None:
            content = ops.resize_long_side(content, self.size).clamp(0, 1)
        feeds = {}
        if self.style_input == STYLE_NAMES:
            feeds["style"] = style_weights(self.names, list(zip(styles, weights)))[None]
        elif self.style_input == STYLE_IMAGES:
            if len(styles) != 1:
                raise OptionError("an exported AdaIN network takes one painting")
            feeds["style"] = ops.resize_long_side(styles[0], self.style_size).clamp(0, 1)[None].numpy()
            feeds["strength"] = np.array([self.strength], dtype=np.float32)
        elif styles:
            raise OptionError("this exported network has its style built in; drop --style")
        return torch.from_numpy(self.network.run(content[None].numpy(), **feeds)[0]).clamp(0, 1)
