"""AdaIN arbitrary-style transfer (Huang & Belongie 2017, "Arbitrary Style Transfer in Real-time with
Adaptive Instance Normalization"): give the relu4_1 features of the photo the channel-wise mean and
standard deviation of the painting's, then invert them with a trained decoder. One encoder pass and
one decoder pass: fast, for any style image."""

from __future__ import annotations

import torch
from torch import nn

from stylefuse.image import ops
from stylefuse.losses.functional import mean_std
from stylefuse.methods._feature_transfer import FeatureTransferStylizer
from stylefuse.nn.export import IMAGE_AXES, ExportGraph
from stylefuse.nn.feature_transforms import FeatureStats, adain_affine
from stylefuse.registry import METHODS


@METHODS.register("adain", aliases=("inverter",))
class AdaINStylizer(FeatureTransferStylizer):
    """AdaIN: match channel means and deviations at relu4_1, then invert (seconds on a CPU)."""

    levels = ("relu4_1",)

    def affine(self, content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
        return adain_affine(content, style)

    def export_graph(self) -> ExportGraph:
        """Encoder + AdaIN + inverter in one graph (:class:`AdaINGraph`), for one untiled image and one style,
        with the stylizer's mirrored border (images at least four borders on a side get the same one)."""
        level = self.levels[0]
        border = self.border_for(self.inverters[level].scale, 4 * self.border, 4 * self.border)
        module = AdaINGraph(self.encoders[level].cpu(), self.inverters[level].cpu(), level, border)
        example = (torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), torch.tensor([1.0]))
        return ExportGraph(module, example, ("image", "style", "strength"),
                           {"image": IMAGE_AXES, "style": {0: "batch", 2: "style_height", 3: "style_width"}},
                           multiple=self.inverters[level].scale,
                           metadata={"method": "adain", "level": level, "minimum": str(border + 1)})


class AdaINGraph(nn.Module):
    """AdaIN as one feed-forward network: encode photo and painting, give the photo's features the
    painting's channel means and deviations (Huang & Belongie 2017, eq. 8), mix with the photo's
    features by ``strength``, invert. The photo is encoded with a mirrored ``border`` that is cropped off
    the result (see :class:`~stylefuse.methods._feature_transfer.FeatureTransferStylizer`).

    Shape: image (B, 3, H, W) with H, W multiples of the inverter's scale and larger than ``border``, style
    (B, 3, h, w), strength (1,) in [0, 1] -> (B, 3, H, W) in [0, 1].
    """

    def __init__(self, encoder: nn.Module, inverter: nn.Module, level: str, border: int = 0) -> None:
        super().__init__()
        self.encoder, self.inverter, self.level, self.border = encoder, inverter, level, border

    def forward(self, image: torch.Tensor, style: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
        features = self.encoder(ops.reflect_border(image, self.border), [self.level])[self.level]
        content_mean, content_std = mean_std(features)
        style_mean, style_std = mean_std(self.encoder(style, [self.level])[self.level])
        scale = (style_std / content_std)[..., None, None]
        transformed = (features - content_mean[..., None, None]) * scale + style_mean[..., None, None]
        mixed = strength * transformed + (1 - strength) * features
        return ops.crop_border(self.inverter(mixed), self.border).clamp(0, 1)
