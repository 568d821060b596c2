"""CycleGAN: unpaired image-to-image translation (Zhu et al. 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks").

Two generators G_ab: A -> B and G_ba: B -> A, two PatchGAN discriminators, and
loss = adversarial + λ_cycle·(|G_ba(G_ab(a)) - a| + |G_ab(G_ba(b)) - b|) + λ_id·λ_cycle·identity.
The exported model is G_ab (EMA weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

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
from stylefuse.nn.generators import unet_depth
from stylefuse.registry import METHODS, NETWORKS, TRAINABLE
from stylefuse.train.augment import ImagePool, diff_augment
from stylefuse.train.recipes import check_at_least, check_choice


@dataclass
class CycleGANRecipe(GanRecipe):
    """CycleGAN options (see :class:`GanRecipe` for the shared ones).

    Args:
        generator: "resnet" (the paper's) or "unet" (as deep as the crop size allows: 7 levels for 128 px,
            8 for 256 px, 2 for 100 px; see :func:`~stylefuse.nn.generators.unet_depth`).
        blocks: residual blocks in each ResNet generator (6 for 128 px, 9 for 256 px in the paper).
        base: channels of the first generator / discriminator layer.
        lambda_cycle: weight of the cycle-consistency L1 loss.
        lambda_identity: identity loss weight, relative to ``lambda_cycle``.
        pool: size of the history image pool.
    """

    generator: str = "resnet"
    blocks: int = 6
    base: int = 32
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("generator", self.generator, GENERATORS)
        check_at_least("blocks", self.blocks, 0)
        check_at_least("base", self.base, 1)
        check_at_least("lambda_cycle", self.lambda_cycle, 0)
        check_at_least("lambda_identity", self.lambda_identity, 0)
        check_at_least("pool", self.pool, 0)


GENERATORS = ("resnet", "unet")


@TRAINABLE.register("cyclegan")
class CycleGAN(TrainableMethod):
    """Unpaired translation A -> B with cycle consistency; batches are ``[a, b]`` in [0, 1]."""

    method_name = "cyclegan"
    recipe_class = CycleGANRecipe
    data_folders = ("a", "b")

    def __init__(self, recipe: CycleGANRecipe | None = None) -> None:
        self.recipe = recipe = recipe or CycleGANRecipe()
        if recipe.generator == "resnet":
            self.network_name, self.network_config = "resnet_generator", dict(blocks=recipe.blocks, base=recipe.base)
        else:  # down to 1 px at the bottleneck where the size is a power of two
            depth = unet_depth(recipe.size, deepest=recipe.size.bit_length() - 1)
            self.network_name, self.network_config = "unet_generator", dict(depth=depth, base=recipe.base,
                                                                             norm="instance")
        network = NETWORKS.get(self.network_name)
        self.generators = nn.ModuleDict({"G": network(**self.network_config), "G_ba": network(**self.network_config)})
        self.discriminators = nn.ModuleDict({"D_b": patch_discriminator(recipe, recipe.base * 2),
                                             "D_a": patch_discriminator(recipe, recipe.base * 2)})
        self.pool_a, self.pool_b = ImagePool(recipe.pool), ImagePool(recipe.pool)

    def _d(self, name: str, images: torch.Tensor) -> torch.Tensor:
        return self.discriminators[name](diff_augment(images, self.recipe.diff_augment))

    def generator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        recipe = self.recipe
        a, b = (to_gan_range(x) for x in batch)
        g_ab, g_ba = self.generators["G"], self.generators["G_ba"]
        fake_b, fake_a = g_ab(a), g_ba(b)
        adversarial = (gan_loss(self._d("D_b", fake_b), True, recipe.gan_loss, for_discriminator=False)
                       + gan_loss(self._d("D_a", fake_a), True, recipe.gan_loss, for_discriminator=False))
        cycle = F.l1_loss(g_ba(fake_b), a) + F.l1_loss(g_ab(fake_a), b)
        terms = {"adversarial": adversarial, "cycle": recipe.lambda_cycle * cycle}
        if recipe.lambda_identity:
            identity = F.l1_loss(g_ab(b), b) + F.l1_loss(g_ba(a), a)
            terms["identity"] = recipe.lambda_identity * recipe.lambda_cycle * identity
        terms["total"] = sum(terms.values())
        return terms

    def discriminator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = (to_gan_range(x) for x in batch)
        with torch.no_grad():
            fake_b, fake_a = self.generators["G"](a), self.generators["G_ba"](b)
        recipe = self.recipe
        terms = {"D_b": real_fake_loss(lambda x: self._d("D_b", x), b, self.pool_b.query(fake_b), recipe.gan_loss,
                                       recipe.r1),
                 "D_a": real_fake_loss(lambda x: self._d("D_a", x), a, self.pool_a.query(fake_a), recipe.gan_loss,
                                       recipe.r1)}
        terms["total"] = terms["D_a"] + terms["D_b"]
        return terms

    def validation_metric(self, batch: list[torch.Tensor], generator: nn.Module) -> float:
        """Cycle error of A images through the (EMA) G_ab and the current G_ba, in [0, 1] units."""
        a = to_gan_range(batch[0])
        return 0.5 * F.l1_loss(self.generators["G_ba"](generator(a)), a).item()

    def samples(self, batch: list[torch.Tensor], generator: nn.Module) -> torch.Tensor:
        a = batch[0][:4]
        return torch.cat([a, from_gan_range(generator(to_gan_range(a)))])

    def extra_state(self) -> dict:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        self.pool_a.load_state_dict(state["pool_a"])
        self.pool_b.load_state_dict(state["pool_b"])


@METHODS.register("cyclegan")
class CycleGANStylizer(GeneratorStylizer):
    """Translate images with a trained CycleGAN generator (domain A to domain B)."""
