"""Distribution distances between a set of results and a set of reference images, in the 2048-d pool
features of the FID Inception: FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018, unbiased
MMD² with the cubic polynomial kernel).

Small sets make FID unstable, so both are computed on random patches (``patches_per_image`` crops of
``patch_fraction`` of each image's short side, resized to 299 px) and reported with their spread over
seeds. ``artfid`` follows Wright & Ommer 2022 in spirit, as our variant: (1 + mean content LPIPS-like
distance) · (1 + patch FID between results and paintings).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from stylefuse.metrics.inception import InceptionFeatures


def random_patches(images: Sequence[torch.Tensor], per_image: int, fraction: float, seed: int) -> torch.Tensor:
    """(N * per_image, 3, s, s) square crops, s = ``fraction`` of each image's short side, resized to a
    common 128 px (the Inception resizes to 299 anyway)."""
    generator = torch.Generator().manual_seed(seed)
    crops = []
    for image in images:
        height, width = image.shape[-2:]
        side = max(16, int(min(height, width) * fraction))
        for _ in range(per_image):
            top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - side + 1, (1,), generator=generator))
            crop = image[:, top:top + side, left:left + side][None]
            crops.append(torch.nn.functional.interpolate(crop, size=(128, 128), mode="bilinear", align_corners=False))
    return torch.cat(crops)


def pool_features(network: InceptionFeatures, images: torch.Tensor, batch: int = 16) -> np.ndarray:
    """(N, 2048) float64 features of (N, 3, H, W) images."""
    return np.concatenate([network(images[i:i + batch])["pool"].double().numpy()
                           for i in range(0, len(images), batch)])


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets (N, D), (M, D): |μa-μb|² + tr(Σa + Σb - 2(ΣaΣb)^½)."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # near-singular product: regularise as the reference implementation does
        offset = np.eye(cov_a.shape[0]) * 1e-6
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


def kernel_inception_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD² between feature sets with k(x, y) = (x·y / d + 1)³ (Bińkowski et al. 2018)."""
    d = a.shape[1]
    k_aa = (a @ a.T / d + 1) ** 3
    k_bb = (b @ b.T / d + 1) ** 3
    k_ab = (a @ b.T / d + 1) ** 3
    m, n = len(a), len(b)
    term_aa = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    term_bb = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(term_aa + term_bb - 2 * k_ab.mean())


def patch_fid_kid(results: Sequence[torch.Tensor], references: Sequence[torch.Tensor], seeds: Sequence[int] = (0, 1, 2),
                  per_image: int = 8, fraction: float = 0.5,
                  network: InceptionFeatures | None = None) -> dict[str, float]:
    """Patch FID and KID of ``results`` against ``references`` (lists of (3, H, W) in [0, 1]), mean and
    standard deviation over ``seeds`` (the patch draws)."""
    network = network or InceptionFeatures()
    fids, kids = [], []
    for seed in seeds:
        a = pool_features(network, random_patches(results, per_image, fraction, seed))
        b = pool_features(network, random_patches(references, per_image, fraction, seed + 1000))
        fids.append(frechet_distance(a, b))
        kids.append(kernel_inception_distance(a, b))
    return {"fid": float(np.mean(fids)), "fid_std": float(np.std(fids)),
            "kid": float(np.mean(kids)), "kid_std": float(np.std(kids))}


def artfid(mean_content_lpips: float, fid: float) -> float:
    """Our ArtFID variant: (1 + content distance) · (1 + FID) (after Wright & Ommer 2022); lower is better."""
    return (1 + mean_content_lpips) * (1 + fid)
