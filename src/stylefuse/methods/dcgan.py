"""DCGAN: unconditional image generation from noise (Radford et al. 2016, "Unsupervised
Representation Learning with Deep Convolutional GANs"), trained on random crops of a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import torch
from torch import nn

from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.losses.functional import gan_loss
from stylefuse.methods._base import NO_STYLE, Stylizer
from stylefuse.methods._gan import GanRecipe, from_gan_range, real_fake_loss, to_gan_range
from stylefuse.methods._trainable import TrainableMethod
from stylefuse.nn.discriminators import DCGANDiscriminator
from stylefuse.nn.generators import DCGANGenerator
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.train.augment import diff_augment
from stylefuse.train.recipes import SizeRule, check_at_least


@dataclass
class DCGANRecipe(GanRecipe):
    """DCGAN options (see :class:`GanRecipe`); ``size`` must be a power of two from 16 up.

    Args:
        latent: length of the noise vector.
        base: channels of the last generator / first discriminator layer.
    """

    SIZE_RULE: ClassVar[SizeRule] = SizeRule(minimum=16, power_of_two=True)
    """DCGAN's networks double / halve the image from / to 4x4 pixels."""

    size: int = 64
    batch_size: int = 16
    gan_loss: str = "bce"
    latent: int = 100
    base: int = 32

    def __post_init__(self) -> None:
        super().__post_init__()
        check_at_least("latent", self.latent, 1)
        check_at_least("base", self.base, 1)


@TRAINABLE.register("dcgan")
class DCGAN(TrainableMethod):
    """Generator from noise; batches are ``[images]`` in [0, 1]."""

    method_name = "dcgan"
    recipe_class = DCGANRecipe
    data_folders = ("data",)
    network_name = "dcgan_generator"
    ema_generator = "G"

    def __init__(self, recipe: DCGANRecipe | None = None) -> None:
        self.recipe = recipe = recipe or DCGANRecipe()
        self.network_config = dict(latent=recipe.latent, size=recipe.size, base=recipe.base)
        self.generators = nn.ModuleDict({"G": DCGANGenerator(**self.network_config)})
        self.discriminators = nn.ModuleDict({"D": DCGANDiscriminator(size=recipe.size, base=recipe.base,
                                                                     spectral=recipe.spectral_norm)})

    def _noise(self, count: int, device: torch.device) -> torch.Tensor:
        return torch.randn(count, self.recipe.latent, device=device)

    def _d(self, images: torch.Tensor) -> torch.Tensor:
        return self.discriminators["D"](diff_augment(images, self.recipe.diff_augment))

    def discriminator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        real = to_gan_range(batch[0])
        with torch.no_grad():
            fake = self.generators["G"](self._noise(real.shape[0], real.device))
        return {"total": real_fake_loss(self._d, real, fake, self.recipe.gan_loss, self.recipe.r1)}

    def generator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        fake = self.generators["G"](self._noise(batch[0].shape[0], batch[0].device))
        adversarial = gan_loss(self._d(fake), True, self.recipe.gan_loss, for_discriminator=False)
        return {"adversarial": adversarial, "total": adversarial}

    def samples(self, batch: list[torch.Tensor], generator: nn.Module) -> torch.Tensor:
        fixed = torch.randn(16, self.recipe.latent, generator=torch.Generator().manual_seed(0))
        return from_gan_range(generator(fixed.to(batch[0].device)))


@METHODS.register("dcgan")
class DCGANSampler(Stylizer):
    """Generate images from noise with a trained DCGAN (``stylefuse generate``); it does not stylize.

    Args:
        model: a dcgan model folder.
        device: where to run it.
    """

    style_input = NO_STYLE

    def __init__(self, model: str | Path, device: str = "cpu") -> None:
        self.network, self.document = load_model(model)
        self.device = torch.device(device)
        self.network.to(self.device)

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> DCGANSampler:
        return cls(model=folder, **options)

    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        raise OptionError("this is a dcgan model, which generates images from noise: use `stylefuse generate --model`")

    @torch.no_grad()
    def generate(self, count: int, seed: int = 0) -> torch.Tensor:
        """``count`` images (N, 3, s, s) in [0, 1] from seeded noise."""
        if count < 1:
            raise OptionError(f"-n must be at least 1, got {count}")
        noise = torch.randn(count, self.network.latent, generator=torch.Generator().manual_seed(seed))
        return from_gan_range(self.network(noise.to(self.device))).cpu()
