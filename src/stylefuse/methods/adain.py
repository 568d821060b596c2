"""AdaIN arbitrary-style transfer (Huang & Belongie 2017, "Arbitrary Style Transfer in Real-time with
Adaptive Instance Normalization"): give the relu4_1 features of the photo the channel-wise mean and
standard deviation of the painting's, then invert them with a trained decoder. One encoder pass and
one decoder pass: fast, for any style image."""

from __future__ import annotations

import torch

from stylefuse.methods._feature_transfer import FeatureTransferStylizer
from stylefuse.nn.feature_transforms import FeatureStats, adain_affine
from stylefuse.registry import METHODS


@METHODS.register("adain", aliases=("inverter",))
class AdaINStylizer(FeatureTransferStylizer):
    """AdaIN: match channel means and deviations at relu4_1, then invert (seconds on a CPU)."""

    levels = ("relu4_1",)

    def affine(self, content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
        return adain_affine(content, style)
