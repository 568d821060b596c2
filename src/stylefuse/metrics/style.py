"""Style fidelity, measured in a network the methods never optimise (the FID Inception, see
:mod:`stylefuse.metrics.inception`), plus a colour-histogram distance.

- ``inception_gram``: relative Gram-matrix error between result and painting at 4 Inception layers;
- ``inception_mean_std``: relative error of channel means and deviations at the same layers (the
  statistics AdaIN matches, judged in another network);
- ``color_histogram``: squared 1-D Wasserstein-2 distance of the RGB channel distributions.
All are 0 for identical statistics; lower is better.
"""

from __future__ import annotations

import torch

from stylefuse.losses import functional as LF
from stylefuse.metrics._base import PairMetric
from stylefuse.metrics.inception import STYLE_LAYERS, InceptionFeatures
from stylefuse.registry import METRICS


class _InceptionStyleMetric(PairMetric):
    kind = "style"

    def __init__(self) -> None:
        self.network = InceptionFeatures()

    def __call__(self, result, content, style) -> float:
        got = self.network(result[None], STYLE_LAYERS)
        want = self.network(style[None], STYLE_LAYERS)
        return sum(self.layer_distance(got[k], want[k]) for k in STYLE_LAYERS) / len(STYLE_LAYERS)

    def layer_distance(self, features: torch.Tensor, target: torch.Tensor) -> float:
        raise NotImplementedError


@METRICS.register("inception_gram")
class InceptionGram(_InceptionStyleMetric):
    """Relative Gram error to the painting in Inception features (lower is better)."""

    def layer_distance(self, features, target) -> float:
        return float(LF.relative_gram_error(features, LF.gram_matrix(target))[0])


@METRICS.register("inception_mean_std")
class InceptionMeanStd(_InceptionStyleMetric):
    """Relative error of Inception channel means and deviations to the painting's (lower is better)."""

    def layer_distance(self, features, target) -> float:
        mean, std = LF.mean_std(features)
        target_mean, target_std = LF.mean_std(target)
        error = (mean - target_mean).pow(2).sum() + (std - target_std).pow(2).sum()
        return float(error / (target_mean.pow(2).sum() + target_std.pow(2).sum()).clamp_min(1e-12))


@METRICS.register("color_histogram")
class ColorHistogram(PairMetric):
    """Squared W2 distance of the RGB histograms of result and painting (lower is better)."""

    kind = "style"

    def __call__(self, result, content, style) -> float:
        return float(LF.histogram_loss(result[None], style[None]))
