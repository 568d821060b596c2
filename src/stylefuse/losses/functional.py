"""Loss functions as plain functions; :mod:`stylefuse.losses.perceptual` wraps them in modules.

Every loss is a mean over positions (and channels), so its value, and the weight it needs, does not
depend on the image resolution.

Shapes: features are (B, C, H, W); images are (B, 3, H, W) in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_features(features: torch.Tensor, name: str = "features") -> None:
    if features.ndim != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(features.shape)}")


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps, normalised by the number of positions (Gatys et al. 2016).

    Args:
        features: (B, C, H, W).

    Returns:
        (B, C, C): ``F F^T / (H W)`` with F the (C, H W) matrix of each image, i.e. the average outer
        product of the feature vectors, which does not grow with the resolution.
    """
    _check_features(features)
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between feature maps (Gatys et al. 2016, eq. 1; Johnson et al. 2016).

    Args:
        features, target: (B, C, H, W) of the same shape.
    """
    if features.shape != target.shape:
        raise ValueError(f"content features {tuple(features.shape)} and target {tuple(target.shape)} differ")
    return F.mse_loss(features, target)


def gram_style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the Gram matrix of ``features`` and a target Gram matrix
    (Gatys et al. 2016, eq. 4-5).

    The mean over the C x C entries makes layers of different widths comparable.

    Args:
        features: (B, C, H, W).
        target_gram: (B, C, C) or (1, C, C), e.g. from :func:`gram_matrix` of a style image, or a
            weighted average of several (style blending).
    """
    gram = gram_matrix(features)
    return F.mse_loss(gram, target_gram.expand_as(gram))


RELATIVE_FLOOR = 1e-8
"""Smallest denominator of the relative errors (an all-zero target gives the plain squared error / 1e-8)."""


def relative_content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean over layers of the content loss divided by the mean square of its target (a relative
    error, so layers of any width and scale weigh alike).

    Args:
        features: layer name -> (B, C, H, W), covering every key of ``targets``.
        targets: layer name -> (B, C, H, W) target features.
    """
    total = sum(content_loss(features[k], t) / t.pow(2).mean().clamp_min(RELATIVE_FLOOR) for k, t in targets.items())
    return total / len(targets)


def relative_squared_error(values: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per item, the mean squared difference divided by the mean square of the target.

    Args:
        values: (B, ...).
        target: (B, ...) or (1, ...), broadcast over the batch.

    Returns:
        (B,): ``mean((v - t)^2) / max(mean(t^2), 1e-8)`` over all but the first dimension.
    """
    target = target.expand_as(values)
    dims = tuple(range(1, values.ndim))
    return (values - target).pow(2).mean(dims) / target.pow(2).mean(dims).clamp_min(RELATIVE_FLOOR)


def relative_gram_error(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Relative Gram-matrix error of each item, the style term of Gatys et al. 2016 (eq. 4-5) divided by
    the mean square of the target Gram matrix, so that layers of any width and scale weigh alike.

    Args:
        features: (B, C, H, W).
        target_gram: (B, C, C) (one target per item) or (1, C, C), e.g. from :func:`gram_matrix`.

    Returns:
        (B,); take ``.mean()`` for a loss.
    """
    return relative_squared_error(gram_matrix(features), target_gram)


STD_EPS = 1e-5
"""Added to variances before the square root (as in instance normalisation), so that standard
deviations and their gradients stay finite on constant channels."""


def std_from_variance(variance: torch.Tensor, eps: float = STD_EPS) -> torch.Tensor:
    """``sqrt(max(var, 0) + eps)``, the standard deviation every channel statistic here uses."""
    return (variance.clamp_min(0) + eps).sqrt()


def mean_std(features: torch.Tensor, eps: float = STD_EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Channel-wise mean and standard deviation over positions (the statistics of instance
    normalisation and AdaIN, Huang & Belongie 2017, eq. 5-6).

    Args:
        features: (B, C, H, W).
        eps: added to the (biased, divided by H W) variance before the square root.

    Returns:
        mean, std: each (B, C); std is ``sqrt(var + eps)`` so that its gradient stays finite.
    """
    _check_features(features)
    flat = features.flatten(2)
    return flat.mean(dim=2), std_from_variance(flat.var(dim=2, unbiased=False), eps)


def mean_std_loss(features: torch.Tensor, target_mean: torch.Tensor, target_std: torch.Tensor) -> torch.Tensor:
    """Style loss on channel statistics, as used to train AdaIN (Huang & Belongie 2017, eq. 11).

    Args:
        features: (B, C, H, W).
        target_mean, target_std: (B, C) or (1, C).
    """
    mean, std = mean_std(features)
    return F.mse_loss(mean, target_mean.expand_as(mean)) + F.mse_loss(std, target_std.expand_as(std))


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (Mahendran & Vedaldi 2015).

    Args:
        images: (B, C, H, W) with H, W >= 2.
    """
    _check_features(images, "images")
    dy = images[:, :, 1:, :] - images[:, :, :-1, :]
    dx = images[:, :, :, 1:] - images[:, :, :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def histogram_loss(images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-channel colour histogram distance: the squared 1-D Wasserstein-2 distance between the value
    distributions of each channel, computed by matching sorted values (quantiles).

    Differentiable almost everywhere (through the sort), resolution independent (both sides are
    resampled to the same number of quantiles), and 0 iff the channel histograms agree. Similar in aim
    to the histogram loss of Risser et al. 2017.

    Args:
        images: (B, C, H, W).
        target: (B, C, H', W') or (1, C, H', W'); sizes may differ.
    """
    _check_features(images, "images")
    _check_features(target, "target")
    if images.shape[1] != target.shape[1]:
        raise ValueError(f"images have {images.shape[1]} channels, target {target.shape[1]}")
    values = images.flatten(2).sort(dim=2).values
    target_values = target.flatten(2).sort(dim=2).values
    target_values = resample_quantiles(target_values, values.shape[2]).expand_as(values)
    return F.mse_loss(values, target_values)


def resample_quantiles(sorted_values: torch.Tensor, count: int) -> torch.Tensor:
    """Linearly resample sorted values (B, C, N) to (B, C, count) evenly spaced quantiles."""
    n = sorted_values.shape[2]
    if n == count:
        return sorted_values
    return F.interpolate(sorted_values, size=count, mode="linear", align_corners=True)


# --- adversarial losses -------------------------------------------------------------------------
# Each takes raw discriminator logits (any shape, or a list of them for multi-scale discriminators)
# and returns a scalar; "target_real" says which side the logits should be pushed to.

GAN_LOSSES = ("bce", "lsgan", "hinge")


def _mean_over(logits: torch.Tensor | list[torch.Tensor], per_map) -> torch.Tensor:
    if isinstance(logits, (list, tuple)):
        return sum(per_map(item) for item in logits) / len(logits)
    return per_map(logits)


def gan_loss(logits: torch.Tensor | list[torch.Tensor], target_real: bool, kind: str = "lsgan",
             for_discriminator: bool = True) -> torch.Tensor:
    """Adversarial loss on discriminator logits.

    Args:
        logits: (B, ...) raw scores, or a list of them (multi-scale discriminators are averaged).
        target_real: True for real samples (discriminator) or for the generator's fakes (generator).
        kind: "bce" (non-saturating, Goodfellow et al. 2014), "lsgan" (Mao et al. 2017) or "hinge"
            (Lim & Ye 2017; Miyato et al. 2018: the generator maximises the raw score).
        for_discriminator: selects the hinge variant; ignored by the other kinds.
    """
    if kind == "bce":
        def per_map(x):
            return F.binary_cross_entropy_with_logits(x, torch.full_like(x, 1.0 if target_real else 0.0))
    elif kind == "lsgan":
        def per_map(x):
            return F.mse_loss(x, torch.full_like(x, 1.0 if target_real else 0.0))
    elif kind == "hinge":
        if for_discriminator:
            def per_map(x):
                return F.relu(1.0 - x).mean() if target_real else F.relu(1.0 + x).mean()
        else:
            def per_map(x):
                return -x.mean()
    else:
        raise ValueError(f"unknown GAN loss {kind!r}; choose from {', '.join(GAN_LOSSES)}")
    return _mean_over(logits, per_map)


def r1_penalty(real_logits: torch.Tensor | list[torch.Tensor], real_images: torch.Tensor) -> torch.Tensor:
    """R1 gradient penalty: mean over the batch of ||d D(x) / d x||^2 on real images
    (Mescheder et al. 2018). ``real_images`` must require grad and ``real_logits`` come from them."""
    total = sum(item.sum() for item in real_logits) if isinstance(real_logits, (list, tuple)) else real_logits.sum()
    (grad,) = torch.autograd.grad(total, real_images, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
