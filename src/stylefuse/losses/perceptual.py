"""Perceptual losses: the functions of :mod:`stylefuse.losses.functional` applied to the features of a
:class:`~stylefuse.encoders.vgg.MultiLayerEncoder`, with targets computed once.

Each layer's term is divided by the mean square of its target (a relative error), so the weights α, β
mean the same for every image, style and layer width: with the defaults, content and style terms
start at comparable scales whatever the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.losses import functional as LF

DEFAULT_CONTENT_LAYERS = ("relu4_2",)
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass
class LossTerms:
    """The weighted terms of a perceptual loss, and their sum (all scalars)."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.content + self.style + self.tv


class StyleTransferLoss(nn.Module):
    """α·content + β·Gram style + γ·total variation, over one encoder pass (Gatys et al. 2016).

    Args:
        encoder: a MultiLayerEncoder covering ``content_layers`` and ``style_layers``; built if None.
        content_layers, style_layers: VGG16 layer names.
        content_weight (α), style_weight (β), tv_weight (γ): term weights.

    Call :meth:`set_content` and :meth:`set_style` before :meth:`forward`.
    """

    def __init__(self, encoder: MultiLayerEncoder | None = None,
                 content_layers: Sequence[str] = DEFAULT_CONTENT_LAYERS,
                 style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
                 content_weight: float = 1.0, style_weight: float = 1.0, tv_weight: float = 0.0,
                 pooling: str = "max") -> None:
        super().__init__()
        for name, value in (("content_weight", content_weight), ("style_weight", style_weight),
                            ("tv_weight", tv_weight)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.content_layers = tuple(content_layers)
        self.style_layers = tuple(style_layers)
        self.encoder = encoder or MultiLayerEncoder(self.content_layers + self.style_layers, pooling=pooling)
        self.content_weight = content_weight
        self.style_weight = style_weight
        self.tv_weight = tv_weight
        self.content_targets: dict[str, torch.Tensor] = {}
        self.style_targets: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def set_content(self, content: torch.Tensor) -> None:
        """Store the content features of ``content`` (1, 3, H, W)."""
        self.content_targets = {k: v.detach() for k, v in self.encoder(content, self.content_layers).items()}

    @torch.no_grad()
    def set_style(self, styles: Sequence[torch.Tensor], weights: Sequence[float] | None = None) -> None:
        """Store the target Gram matrices: the weighted mean over ``styles`` (each (1, 3, H, W), sizes
        may differ). Matching the mean Gram is the minimiser of the weighted sum of per-style losses,
        at the cost of a single target."""
        if not styles:
            raise ValueError("at least one style image is needed")
        weights = [1.0] * len(styles) if weights is None else list(weights)
        if len(weights) != len(styles) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("style weights must be non-negative, one per style, with a positive sum")
        total = float(sum(weights))
        targets: dict[str, torch.Tensor] = {}
        for style, weight in zip(styles, weights):
            for name, features in self.encoder(style, self.style_layers).items():
                gram = LF.gram_matrix(features) * (weight / total)
                targets[name] = targets[name] + gram if name in targets else gram
        self.style_targets = targets

    def forward(self, image: torch.Tensor) -> LossTerms:
        """Loss terms for ``image`` (1, 3, H, W) in [0, 1]."""
        if not self.content_targets or not self.style_targets:
            raise RuntimeError("call set_content() and set_style() first")
        features = self.encoder(image)
        content = LF.relative_content_loss(features, self.content_targets)
        style = sum(self.style_by_layer(features).values())
        tv = LF.total_variation(image) if self.tv_weight else image.new_zeros(())
        return LossTerms(self.content_weight * content, style, self.tv_weight * tv)

    def style_by_layer(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each style layer's weighted share of the style term (they sum to it), from the encoder's
        ``features`` of an image."""
        share = self.style_weight / len(self.style_targets)
        return {k: share * LF.relative_gram_error(features[k], t).mean() for k, t in self.style_targets.items()}
