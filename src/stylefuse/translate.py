"""Inference with trained generator model folders (cyclegan, pix2pix, adversarial_style, dcgan)."""

from __future__ import annotations

from pathlib import Path

import torch

from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.image import ops


class GeneratorModel:
    """A trained generator loaded from a model folder.

    Args:
        folder: model folder written by ``stylefuse train``.
        device: where to run it.
    """

    def __init__(self, folder: str | Path, device: str = "cpu") -> None:
        self.model, self.document = load_model(folder)
        self.model.to(device)
        self.device = torch.device(device)
        self.method = self.document.get("method", "unknown")
        config = self.document["config"]
        self.multiple = 2 ** config.get("depth", 8) if self.document["network"] == "unet_generator" else 4

    @torch.no_grad()
    def translate(self, rgb: torch.Tensor, tile: int = 512, overlap: int = 64) -> torch.Tensor:
        """Translate (3, H, W) in [0, 1] to (3, H, W) in [0, 1]; large images go through overlapping tiles."""
        network = self.document["network"]
        if network == "dcgan_generator":
            raise OptionError(f"this is a {self.method} model, which generates from noise: use `stylefuse generate`")
        if network == "fast_stylizer":
            raise OptionError("this is a multi-style model: use `stylefuse stylize IMAGE --model DIR --style NAME`")
        if network == "vgg16_inverter":
            raise OptionError("this is a VGG16 inverter: adain and wct use inverters, it does not translate images")
        x = ops.to_signed_range(rgb[None].to(self.device))
        y = ops.apply_tiled(self.model, x, tile=tile, overlap=overlap, multiple=self.multiple, margin=overlap)
        return ops.from_signed_range(y[0]).cpu()

    @torch.no_grad()
    def generate(self, count: int, seed: int = 0) -> torch.Tensor:
        """``count`` images (N, 3, s, s) in [0, 1] from a DCGAN model."""
        if self.document["network"] != "dcgan_generator":
            raise OptionError(f"this is a {self.method} model, which translates images: use `stylefuse translate`")
        noise = torch.randn(count, self.model.latent, generator=torch.Generator().manual_seed(seed))
        return ops.from_signed_range(self.model(noise.to(self.device))).cpu()
