"""Automatic regions without a network: SLIC superpixels (Achanta et al. 2012, "SLIC Superpixels Compared to
State-of-the-Art Superpixel Methods"), grouped into K regions by k-means (Lloyd 1982) on each superpixel's
mean CIELAB colour and the spread of its lightness (a simple texture cue). Needs scikit-image (the ``fusion``
extra).
"""

from __future__ import annotations

import numpy as np
import torch

from stylefuse.errors import OptionError

SUPERPIXELS_PER_REGION = 12
TEXTURE_WEIGHT = 0.5
"""Weight of the lightness spread against the mean colour in the k-means features (both standardised)."""


def parse_auto(text: str) -> int | None:
    """K of ``"auto:K"``; None for any other text (a label image's path)."""
    head, sep, tail = str(text).partition(":")
    if head != "auto" or not sep:
        return None
    if not tail.isdigit() or int(tail) < 2:
        raise OptionError(f"--regions auto:K takes a whole number of regions K >= 2, got {text!r}")
    return int(tail)


def auto_labels(rgb: torch.Tensor, regions: int, seed: int = 0) -> torch.Tensor:
    """(H, W) labels 0..K-1 of an image (3, H, W) in [0, 1], region 0 the darkest on average.

    Args:
        regions: K >= 2.
        seed: k-means starts from the darkest superpixel and then the farthest ones (deterministic);
            the seed only breaks ties.
    """
    try:
        from skimage.color import rgb2lab
        from skimage.segmentation import slic
    except ImportError:
        raise OptionError("--regions auto:K needs scikit-image: pip install 'stylefuse[fusion]'") from None
    image = rgb.permute(1, 2, 0).double().numpy()
    superpixels = slic(image, n_segments=regions * SUPERPIXELS_PER_REGION, compactness=10, start_label=0,
                       channel_axis=-1)
    lab = rgb2lab(image)
    count = int(superpixels.max()) + 1
    if count < regions:
        raise OptionError(f"the image splits into only {count} superpixels, fewer than the {regions} regions asked "
                          "for; ask for fewer regions or give a larger image")
    features = np.stack([_superpixel_mean(lab[..., channel], superpixels, count) for channel in range(3)]
                        + [_superpixel_std(lab[..., 0], superpixels, count)], axis=1)
    scale = features.std(0) + 1e-9
    features = (features - features.mean(0)) / scale
    features[:, 3] *= TEXTURE_WEIGHT
    clusters = kmeans(features, regions, seed)
    lightness = np.array([features[clusters == k, 0].mean() if (clusters == k).any() else np.inf
                          for k in range(regions)])
    rank = np.argsort(np.argsort(lightness))
    return torch.from_numpy(rank[clusters][superpixels]).to(torch.int64)


def kmeans(points: np.ndarray, k: int, seed: int = 0, iterations: int = 30) -> np.ndarray:
    """Cluster indices (N,) of points (N, D) by Lloyd's k-means, started by farthest-point sampling from
    the point with the smallest first coordinate (deterministic)."""
    rng = np.random.default_rng(seed)
    centres = [points[np.argmin(points[:, 0])]]
    for _ in range(1, k):
        distance = np.min([((points - centre) ** 2).sum(1) for centre in centres], axis=0)
        centres.append(points[np.argmax(distance + 1e-12 * rng.random(len(points)))])
    centres = np.array(centres)
    for _ in range(iterations):
        labels = ((points[:, None] - centres[None]) ** 2).sum(2).argmin(1)
        moved = np.array([points[labels == j].mean(0) if (labels == j).any() else centres[j] for j in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    return ((points[:, None] - centres[None]) ** 2).sum(2).argmin(1)


def _superpixel_mean(values: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    return np.bincount(labels.ravel(), values.ravel(), count) / np.maximum(np.bincount(labels.ravel(), None, count), 1)


def _superpixel_std(values: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    mean = _superpixel_mean(values, labels, count)
    return np.sqrt(np.maximum(_superpixel_mean(values**2, labels, count) - mean**2, 0))
