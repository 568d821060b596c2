"""What the GAN methods share: value-range conversion, the options every one of them takes, the
PatchGAN discriminator choice and the discriminator loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.image.ops import from_signed_range, to_signed_range
from stylefuse.losses.functional import gan_loss, r1_penalty
from stylefuse.nn.discriminators import MultiScaleDiscriminator, PatchDiscriminator


def to_gan_range(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1], the range of tanh generators."""
    return to_signed_range(images)


def from_gan_range(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return from_signed_range(images)


@dataclass
class GanRecipe:
    """Options common to the GAN methods (each method adds its own).

    Args:
        size: training crop size in pixels.
        batch_size: images per step.
        gan_loss: "bce", "lsgan" or "hinge".
        diff_augment: DiffAugment policy for discriminator inputs ("" = off).
        r1: R1 penalty weight on real images (0 = off).
        spectral_norm: spectral normalisation in the discriminator.
        discriminator_scales: 1 for a 70x70 PatchGAN, more for a multi-scale discriminator
            (pix2pixHD) judging the image at 1, 1/2, 1/4, ... resolution.
    """

    size: int = 128
    batch_size: int = 1
    gan_loss: str = "lsgan"
    diff_augment: str = ""
    r1: float = 0.0
    spectral_norm: bool = False
    discriminator_scales: int = 1


def patch_discriminator(recipe: GanRecipe, base: int, in_channels: int = 3) -> nn.Module:
    """The recipe's PatchGAN, or a multi-scale one when ``recipe.discriminator_scales`` > 1."""
    options = dict(in_channels=in_channels, base=base, spectral=recipe.spectral_norm)
    if recipe.discriminator_scales > 1:
        return MultiScaleDiscriminator(scales=recipe.discriminator_scales, **options)
    return PatchDiscriminator(**options)


def real_fake_loss(discriminate: Callable[[torch.Tensor], Any], real: torch.Tensor, fake: torch.Tensor,
                   kind: str, r1: float = 0.0) -> torch.Tensor:
    """Discriminator loss: half real-as-real plus half fake-as-fake, plus the R1 penalty on reals
    (Mescheder et al. 2018) when ``r1`` > 0.

    Args:
        discriminate: images (B, C, H, W) -> logits (the discriminator, with any augmentation).
        real, fake: (B, C, H, W) in [-1, 1]; ``fake`` detached.
    """
    if r1:
        real = real.detach().requires_grad_(True)
    real_logits = discriminate(real)
    loss = 0.5 * (gan_loss(real_logits, True, kind) + gan_loss(discriminate(fake), False, kind))
    if r1:
        loss = loss + 0.5 * r1 * r1_penalty(real_logits, real)
    return loss
