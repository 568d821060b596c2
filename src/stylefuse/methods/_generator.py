"""Inference of trained image-to-image generators (CycleGAN, pix2pix, adversarial style transfer): the
stylizer each of those methods registers for its model folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.image import ops
from stylefuse.methods._base import NO_STYLE, Stylizer
from stylefuse.methods._gan import from_gan_range, to_gan_range
from stylefuse.nn.export import IMAGE_AXES, ExportGraph
from stylefuse.nn.generators import UnetGenerator


class UnitRangeGenerator(torch.nn.Module):
    """A generator wrapped to take and give images in [0, 1] (it works in [-1, 1]).

    Shape: (B, 3, H, W) -> (B, 3, H, W), H and W multiples of the generator's stride.
    """

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return from_gan_range(self.network(to_gan_range(image)))


class GeneratorStylizer(Stylizer):
    """A trained generator G: (3, H, W) in [0, 1] -> (3, H, W) in [0, 1]; it takes no style images.

    Args:
        model: the model folder written by ``stylefuse train``.
        tile: images larger than this go through overlapping tiles, blended.
        size: long side of the result in pixels (None keeps the content's size).
        device: where to run it.
    """

    style_input = NO_STYLE
    networks: tuple[str, ...] = ("resnet_generator", "unet_generator")
    """The registered network names this method's folders may hold."""

    def __init__(self, model: str | Path, tile: int = 512, size: int | None = None,
                 device: str = "cpu") -> None:
        if tile < 64:
            raise OptionError(f"tile must be at least 64 pixels, got {tile}")
        if size is not None and size < 16:
            raise OptionError(f"size must be at least 16 pixels, got {size}")
        self.network, self.document = load_model(model)
        if self.document["network"] not in self.networks:
            raise OptionError(f"{model} holds a {self.document['network']}, not a generator of "
                              f"{type(self).__name__}")
        self.device = torch.device(device)
        self.network.to(self.device)
        self.tile, self.size = tile, size
        self.multiple = 2**self.network.depth if isinstance(self.network, UnetGenerator) else 4

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> GeneratorStylizer:
        return cls(model=folder, **options)

    def export_graph(self) -> ExportGraph:
        """The generator on [0, 1] images: image (B, 3, H, W), H and W multiples of :attr:`multiple` -> (B, 3,
        H, W); the tiling and size are applied outside it."""
        module = UnitRangeGenerator(self.network.cpu())
        size = max(64, self.multiple)
        return ExportGraph(module, (torch.rand(1, 3, size, size),), ("image",), {"image": IMAGE_AXES},
                           multiple=self.multiple, metadata={"method": str(self.document.get("method"))})

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Translate ``content`` (3, H, W) in [0, 1]; ``styles`` must be empty (the style is in the weights)."""
        if styles:
            raise OptionError(f"a {self.document.get('method')} model has its style built in; drop --style")
        if self.size is not None:
            content = ops.resize_long_side(content, self.size).clamp(0, 1)
        x = to_gan_range(content[None].to(self.device))
        overlap = min(64, self.tile // 4)
        y = ops.apply_tiled(self.network, x, tile=self.tile, overlap=overlap, multiple=self.multiple, margin=overlap)
        return from_gan_range(y[0]).cpu()
