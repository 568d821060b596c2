"""pix2pix: paired image-to-image translation (Isola et al. 2017, "Image-to-Image Translation with
Conditional Adversarial Networks").

A U-Net generator G(a) and a conditional PatchGAN D(a, b) that sees the input beside the output;
loss = adversarial + λ_L1·|G(a) - b|.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stylefuse.errors import OptionError
from stylefuse.losses.functional import gan_loss
from stylefuse.methods._gan import (
    GanRecipe,
    from_gan_range,
    patch_discriminator,
    real_fake_loss,
    to_gan_range,
)
from stylefuse.methods._generator import GeneratorStylizer
from stylefuse.methods._trainable import TrainableMethod
from stylefuse.nn.generators import UnetGenerator, unet_depth
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.train.augment import diff_augment
from stylefuse.train.recipes import check_at_least, check_choice, option_value


@dataclass
class Pix2PixRecipe(GanRecipe):
    """pix2pix options (see :class:`GanRecipe` for the shared ones).

    Args:
        depth: U-Net levels; None: as many as the crop size allows, up to 8 (7 for 128 px, 8 for 256 px,
            2 for 100 px; see :func:`~stylefuse.nn.generators.unet_depth`). A given depth needs crops that
            are multiples of 2**depth.
        base: channels of the first generator / discriminator layer.
        lambda_l1: weight of the L1 reconstruction loss (100 in the paper).
        norm: "batch" (paper) or "instance".
    """

    depth: int | None = None
    base: int = 32
    lambda_l1: float = 100.0
    norm: str = "instance"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.depth is not None:
            check_at_least("depth", self.depth, 1)
            deepest = unet_depth(self.size, deepest=self.depth)
            if deepest < self.depth:
                raise OptionError(f"{option_value('depth', self.depth)} needs a --size that is a multiple of "
                                  f"{2**self.depth}; --size {self.size} allows a depth of at most {deepest}")
        check_at_least("base", self.base, 1)
        check_at_least("lambda_l1", self.lambda_l1, 0)
        check_choice("norm", self.norm, ("batch", "instance"))

    @property
    def unet_depth(self) -> int:
        """The U-Net depth this recipe trains: ``depth``, or the deepest that fits ``size``."""
        return self.depth if self.depth is not None else unet_depth(self.size)


@TRAINABLE.register("pix2pix")
class Pix2Pix(TrainableMethod):
    """Paired translation A -> B; batches are ``(a, b)`` aligned crops in [0, 1]."""

    method_name = "pix2pix"
    recipe_class = Pix2PixRecipe
    data_folders = ("a", "b")
    paired = True
    network_name = "unet_generator"

    def __init__(self, recipe: Pix2PixRecipe | None = None) -> None:
        self.recipe = recipe = recipe or Pix2PixRecipe()
        self.network_config = dict(depth=recipe.unet_depth, base=recipe.base, norm=recipe.norm)
        self.generators = nn.ModuleDict({"G": UnetGenerator(**self.network_config)})
        self.discriminators = nn.ModuleDict({"D": patch_discriminator(recipe, recipe.base * 2, in_channels=6)})

    def _d(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        pair = diff_augment(torch.cat([a, b], dim=1), self.recipe.diff_augment)
        return self.discriminators["D"](pair)

    def generator_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = (to_gan_range(x) for x in batch)
        fake = self.generators["G"](a)
        terms = {"adversarial": gan_loss(self._d(a, fake), True, self.recipe.gan_loss, for_discriminator=False),
                 "l1": self.recipe.lambda_l1 * F.l1_loss(fake, b)}
        terms["total"] = terms["adversarial"] + terms["l1"]
        return terms

    def discriminator_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = (to_gan_range(x) for x in batch)
        with torch.no_grad():
            fake = self.generators["G"](a)
        loss = real_fake_loss(lambda x: self._d(a, x), b, fake, self.recipe.gan_loss, self.recipe.r1)
        return {"total": loss}

    def validation_metric(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> float:
        """L1 distance of G(a) to b in [0, 1]."""
        return F.l1_loss(from_gan_range(generator(to_gan_range(batch[0]))), batch[1]).item()

    def samples(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> torch.Tensor:
        a, b = batch[0][:4], batch[1][:4]
        return torch.cat([a, from_gan_range(generator(to_gan_range(a))), b])


@METHODS.register("pix2pix")
class Pix2PixStylizer(GeneratorStylizer):
    """Translate images with a trained pix2pix generator (inputs to targets)."""
