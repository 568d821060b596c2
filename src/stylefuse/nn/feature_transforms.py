"""Feature-statistics transforms for arbitrary-style transfer: AdaIN (Huang & Belongie 2017, "Arbitrary
Style Transfer in Real-time with Adaptive Instance Normalization") and the whitening-colouring
transform (Li et al. 2017, "Universal Style Transfer via Feature Transforms").

Statistics are accumulated as sums (Σf, Σff^T, n) so that they can be gathered tile by tile over an
image of any size and still equal the whole-image statistics. Covariances and their eigendecompositions
are computed in float64 with a regularisation relative to the mean eigenvalue, so constant images and
features with fewer positions than channels give finite results.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from stylefuse.losses.functional import std_from_variance

EPS_RELATIVE = 1e-4
"""Eigenvalue floor relative to the mean eigenvalue (WCT whitening / colouring)."""
EPS_ABSOLUTE = 1e-6


@dataclass
class FeatureStats:
    """Per-channel statistics of feature maps at one encoder level.

    Attributes:
        mean: (C,) float64.
        cov: (C, C) float64 covariance over positions (biased).
    """

    mean: torch.Tensor
    cov: torch.Tensor

    @property
    def std(self) -> torch.Tensor:
        """(C,) standard deviation, sqrt(var + eps) (:func:`stylefuse.losses.functional.std_from_variance`)."""
        return std_from_variance(self.cov.diagonal())

    @staticmethod
    def blend(stats: list["FeatureStats"], weights: list[float]) -> "FeatureStats":
        """Weighted mean of means and of covariances (the statistics of a style blend)."""
        total = float(sum(weights))
        mean = sum(w / total * s.mean for s, w in zip(stats, weights))
        cov = sum(w / total * s.cov for s, w in zip(stats, weights))
        return FeatureStats(mean, cov)


class StatsAccumulator:
    """Running Σf, Σff^T and n over feature maps (B, C, h, w), optionally masked to owned positions."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None
        self.outer: torch.Tensor | None = None
        self.count = 0

    def add(self, features: torch.Tensor, chunk_elements: int = 1 << 22) -> None:
        """Add every position of ``features`` (B, C, h, w), converted to float64 a chunk of about
        ``chunk_elements`` values at a time (a 1152 px tile at relu1_1 is 0.7 GB in float64)."""
        channels = features.shape[1]
        flat = features.transpose(0, 1).reshape(channels, -1)  # a view when B == 1
        if self.total is None:
            self.total = flat.new_zeros(channels, dtype=torch.float64)
            self.outer = flat.new_zeros(channels, channels, dtype=torch.float64)
        step = max(1, chunk_elements // channels)
        for start in range(0, flat.shape[1], step):
            part = flat[:, start:start + step].double()
            self.total += part.sum(1)
            self.outer += part @ part.T
        self.count += flat.shape[1]

    def stats(self) -> FeatureStats:
        if not self.count:
            raise ValueError("no features were added")
        mean = self.total / self.count
        cov = self.outer / self.count - torch.outer(mean, mean)
        return FeatureStats(mean, (cov + cov.T) / 2)


def feature_stats(features: torch.Tensor) -> FeatureStats:
    """Statistics of all positions of ``features`` (B, C, h, w)."""
    accumulator = StatsAccumulator()
    accumulator.add(features)
    return accumulator.stats()


def adain_affine(content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
    """Adaptive instance normalisation as a per-channel affine map f' = a ⊙ f + b: normalise with the
    content's mean/std, then give the features the style's (Huang & Belongie 2017, eq. 8).

    Returns:
        a (C,) and b (C,), float64.
    """
    scale = style.std / content.std
    return scale, style.mean - scale * content.mean


def _matrix_power(cov: torch.Tensor, power: float) -> torch.Tensor:
    """cov^power of a symmetric PSD matrix, through a regularised eigendecomposition (float64)."""
    values, vectors = torch.linalg.eigh(cov.double())
    floor = EPS_RELATIVE * values.clamp_min(0).mean() + EPS_ABSOLUTE
    values = values.clamp_min(0) + floor
    return (vectors * values.pow(power)) @ vectors.T


def wct_matrix(content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
    """The affine map of the whitening-colouring transform, f' = A f + b (Li et al. 2017, eq. 2-4).

    Returns:
        A (C, C) and b (C,), float64: whiten with the content covariance, colour with the style's.
    """
    whiten = _matrix_power(content.cov, -0.5)
    colour = _matrix_power(style.cov, 0.5)
    matrix = colour @ whiten
    return matrix, style.mean - matrix @ content.mean


def apply_affine(features: torch.Tensor, matrix: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Apply ``matrix`` (C, C), or a per-channel scale (C,), and ``bias`` (C,) to every position of
    ``features`` (B, C, h, w)."""
    if matrix.ndim == 1:
        out = features * matrix.to(features.dtype).view(1, -1, 1, 1)
    else:
        out = torch.einsum("ij,bjhw->bihw", matrix.to(features.dtype), features)
    return out.add_(bias.to(features.dtype).view(1, -1, 1, 1))  # in place: out is new, and may be large
