"""What the GAN methods share: value-range conversion, the options every one of them takes, and
export of the trained generator as a model folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, PairedCrops, UnpairedCrops
from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.losses.functional import gan_loss, r1_penalty
from stylefuse.nn.discriminators import MultiScaleDiscriminator, PatchDiscriminator
from stylefuse.train.loop import GanTask, Trainer


def to_gan_range(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1], the range of tanh generators."""
    return images * 2 - 1


def from_gan_range(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return ((images + 1) / 2).clamp(0, 1)


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


class TrainableGan(GanTask):
    """A GAN method: a task for the loop plus the recipe that built it and how to export it.

    Subclasses set ``network_name`` / ``network_config`` (the inference generator's registry name and
    constructor arguments) and ``method_name``.
    """

    method_name: str = ""
    network_name: str = ""
    network_config: dict[str, Any] = {}
    recipe: GanRecipe
    recipe_class: type[GanRecipe] = GanRecipe
    data_folders: tuple[str, ...] = ("data",)
    """The folders the method trains on, by CLI option name: ("a", "b"), ("data",), ("data", "style")."""
    paired: bool = False
    """True when the two folders hold pairs matched by file name."""

    @classmethod
    def make_batches(cls, recipe: GanRecipe, folders: dict[str, Path], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """``batches(step)`` over random crops of the method's folders (images are first scaled so that
        their short side is at most twice the crop size, so crops show whole structures)."""
        images = [ImageFolder(folders[name], max_side=2 * recipe.size, report=report) for name in cls.data_folders]
        if cls.paired:
            return PairedCrops(images[0], images[1], recipe.size, recipe.batch_size, seed)
        return UnpairedCrops(images, recipe.size, recipe.batch_size, seed)

    def validation_metric(self, batch: Any, generator: nn.Module) -> float:
        """A number to early-stop on (lower is better), from a held-out batch and the inference
        generator; methods without a meaningful one raise :class:`OptionError`."""
        raise OptionError(f"{self.method_name} has no validation metric; train without --validate-every")

    def validator(self, batches: Callable[[int], Any], count: int = 4) -> Callable[[nn.Module], float]:
        """``validate(generator)``: the mean :meth:`validation_metric` over ``count`` fixed batches that
        training never draws (steps -1, -2, ...)."""
        fixed = [batches(-1 - index) for index in range(count)]

        @torch.no_grad()
        def validate(generator: nn.Module) -> float:
            was_training = generator.training
            generator.eval()
            value = sum(self.validation_metric(batch, generator) for batch in fixed) / len(fixed)
            generator.train(was_training)
            return value

        return validate

    def export(self, trainer: Trainer, folder: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Save the inference generator (EMA when present) as a model folder."""
        generator: nn.Module = trainer.inference_generator()
        record = {"method": self.method_name, "value_range": "[-1, 1]", "train_size": self.recipe.size,
                  "steps": trainer.step, **(extra or {})}
        return save_model(generator, folder, self.network_name, self.network_config, extra=record)


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
