"""Universal style transfer by whitening and colouring (Li et al. 2017, "Universal Style Transfer via
Feature Transforms"): at relu4_1, then relu3_1, relu2_1 and relu1_1 (coarse to fine), whiten the
photo's features with their covariance, colour them with the painting's, and invert; each level starts
from the previous level's image. Matching full covariances transfers more of the style than AdaIN's
per-channel statistics."""

from __future__ import annotations

import torch

from stylefuse.methods._feature_transfer import FeatureTransferStylizer
from stylefuse.nn.feature_transforms import FeatureStats, wct_matrix
from stylefuse.registry import METHODS


@METHODS.register("wct")
class WCTStylizer(FeatureTransferStylizer):
    """WCT: whitening-colouring transforms at relu4_1 .. relu1_1, coarse to fine (stronger stylization)."""

    levels = ("relu4_1", "relu3_1", "relu2_1", "relu1_1")
    default_strength = 0.5
    """Full strength at all four levels breaks photos into blotches; half keeps the painting's texture
    strong (measurements in docs/benchmarks.md)."""

    def affine(self, content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
        return wct_matrix(content, style)
