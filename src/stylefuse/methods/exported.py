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

import torch

from stylefuse.errors import OptionError
from stylefuse.image import ops
from stylefuse.methods._base import NO_STYLE, STYLE_IMAGES, STYLE_NAMES, Stylizer
from stylefuse.registry import METHODS

KINDS = {("image",): NO_STYLE, ("image", "style"): STYLE_NAMES, ("image", "style", "strength"): STYLE_IMAGES}
"""The input names of each kind of exported network and the styles it takes."""


@METHODS.register("onnx")
class ExportedStylizer(Stylizer):
    """An exported network (``stylefuse export``) run by ONNX Runtime.

    Args:
        file: the .onnx file.
        strength: style strength 0..1 (AdaIN mixes features; the others blend the result with the photo).
        size: long side of the result in pixels (None keeps the content's size).
        style_size: long side a painting is encoded at (AdaIN files).

    :attr:`style_input` is set from the file (see :data:`KINDS`).
    """

    style_input = NO_STYLE

    def __init__(self, file: Path | None = None, strength: float = 1.0, size: int | None = None,
                 style_size: int = 512) -> None:
        if file is None or not Path(file).is_file():
            raise OptionError(f"--method onnx needs an exported file: --set file=PATH.onnx (got {file})")
        if not 0.0 <= strength <= 1.0:
            raise OptionError(f"strength must be between 0 and 1, got {strength}")
        try:
            import onnxruntime
        except ImportError:
            raise OptionError("running exported files needs ONNX Runtime: pip install 'stylefuse[onnx]'") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        try:
            self.session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own exception types
            raise OptionError(f"cannot load {file} with ONNX Runtime ({str(exc).splitlines()[0]})") from None
        inputs = tuple(item.name for item in self.session.get_inputs())
        if inputs not in KINDS:
            raise OptionError(f"{file} was not written by `stylefuse export` (inputs {', '.join(inputs)})")
        self.style_input = KINDS[inputs]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.multiple, self.minimum = int(meta.get("multiple", 1)), int(meta.get("minimum", 0))
        self.names: list[str] = json.loads(meta.get("style_names", "[]"))
        self.strength, self.size, self.style_size = strength, size, style_size

    def default_styles(self) -> list[tuple[Any, float]]:
        return [(self.names[0], 1.0)] if len(self.names) == 1 else []

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """(3, H, W) in [0, 1] -> (3, H', W') in [0, 1] with the styles the file takes (see the module)."""
        from stylefuse.methods.fast import style_vector

        weights = [1.0] * len(styles) if weights is None else list(weights)
        if self.size is not None:
            content = ops.resize_long_side(content, self.size).clamp(0, 1)
        height, width = content.shape[-2:]
        image = ops.pad_to_multiple(content[None], self.multiple, minimum=self.minimum, reflect=True)
        feeds = {"image": image.numpy()}
        if self.style_input == STYLE_NAMES:
            feeds["style"] = style_vector(self.names, list(zip(styles, weights)))[None].numpy()
        elif self.style_input == STYLE_IMAGES:
            if len(styles) != 1:
                raise OptionError("an exported AdaIN network takes one painting")
            feeds["style"] = ops.resize_long_side(styles[0], self.style_size).clamp(0, 1)[None].numpy()
            feeds["strength"] = torch.tensor([self.strength]).numpy()
        elif styles:
            raise OptionError("this exported network has its style built in; drop --style")
        out = torch.from_numpy(self.session.run(None, feeds)[0])[0, :, :height, :width]
        if self.style_input != STYLE_IMAGES and self.strength < 1.0:
            out = self.strength * out + (1 - self.strength) * content
        return out.clamp(0, 1)
