"""What the GAN methods share: value-range conversion, the options every one of them takes (checked when
a recipe is built), the PatchGAN discriminator choice and the discriminator loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from stylefuse.errors import OptionError
from stylefuse.image.ops import from_signed_range, to_signed_range
from stylefuse.losses.functional import gan_loss, r1_penalty
from stylefuse.nn.discriminators import MultiScaleDiscriminator, PatchDiscriminator, patch_min_size
from stylefuse.train.augment import diff_augment_parts
from stylefuse.train.recipes import SizeRule, check_at_least, check_choice, check_size, option_value

GAN_LOSSES = ("bce", "lsgan", "hinge")
"""The adversarial losses of :func:`stylefuse.losses.functional.gan_loss`."""


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
        size: training crop size in pixels (:attr:`SIZE_RULE` says which: a multiple of 4 from 32 up).
        batch_size: images per step.
        gan_loss: "bce", "lsgan" or "hinge".
        diff_augment: DiffAugment policy for discriminator inputs ("" = off).
        r1: R1 penalty weight on real images (0 = off).
        spectral_norm: spectral normalisation in the discriminator.
        discriminator_scales: 1 for a 70x70 PatchGAN, more for a multi-scale discriminator
            (pix2pixHD) judging the image at 1, 1/2, 1/4, ... resolution (each scale doubles the
            smallest crop size, 24 px at one scale).

    Raises:
        OptionError: for any value the method cannot train with (one line naming the option).
    """

    SIZE_RULE: ClassVar[SizeRule] = SizeRule(minimum=32, multiple=4)
    """The crop sizes the method's networks take (ResNet generators go down by 4)."""

    size: int = 128
    batch_size: int = 1
    gan_loss: str = "lsgan"
    diff_augment: str = ""
    r1: float = 0.0
    spectral_norm: bool = False
    discriminator_scales: int = 1

    def __post_init__(self) -> None:
        check_size(self.size, self.SIZE_RULE)
        check_at_least("batch_size", self.batch_size, 1)
        check_choice("gan_loss", self.gan_loss, GAN_LOSSES)
        diff_augment_parts(self.diff_augment)
        check_at_least("r1", self.r1, 0)
        check_at_least("discriminator_scales", self.discriminator_scales, 1)
        smallest = patch_min_size(scales=self.discriminator_scales)
        if self.discriminator_scales > 1 and self.size < smallest:
            raise OptionError(f"{option_value('discriminator_scales', self.discriminator_scales)} needs --size "
                              f"{smallest} or more (each scale halves the crop); got --size {self.size}")


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
