"""Adversarial content-preserving style transfer: a feed-forward generator learns the style of a
collection of artworks while keeping the content of photos.

total loss = α·content + β·style + λ·adversarial, where content is the relative VGG16 feature error
between G(x) and x (Johnson et al. 2016), style the relative Gram error against the artworks of the
batch (Gatys et al. 2016), and adversarial a PatchGAN judging G's outputs against crops of the
artworks (Isola et al. 2017), which captures what Gram statistics miss (stroke shapes, local layout;
cf. Sanakoyeu et al. 2018, "A Style-Aware Content Loss for Real-time HD Style Transfer").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from stylefuse.encoders.vgg import ENCODER_ID, LAYERS, MultiLayerEncoder
from stylefuse.errors import OptionError
from stylefuse.losses import functional as LF
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
from stylefuse.nn.generators import ResnetGenerator
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.train.augment import diff_augment
from stylefuse.train.recipes import check_at_least, check_choice


@dataclass
class AdversarialStyleRecipe(GanRecipe):
    """Options of adversarial style transfer (see :class:`GanRecipe` for the shared ones).

    Args:
        alpha: content weight α.
        beta: style (Gram) weight β.
        lam: adversarial weight λ.
        blocks, base: generator residual blocks and width.
        content_layers, style_layers: VGG16 layers.
    """

    batch_size: int = 4
    alpha: float = 1.0
    beta: float = 10.0
    lam: float = 0.1
    blocks: int = 5
    base: int = 32
    content_layers: list[str] = field(default_factory=lambda: ["relu3_1"])
    style_layers: list[str] = field(default_factory=lambda: ["relu1_1", "relu2_1", "relu3_1", "relu4_1"])

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("alpha", "beta", "lam", "blocks"):
            check_at_least(name, getattr(self, name), 0)
        check_at_least("base", self.base, 1)
        for name in ("content_layers", "style_layers"):
            layers = getattr(self, name)
            if not layers:
                raise OptionError(f"--set {name}=[]: give at least one VGG16 layer, e.g. relu3_1")
            for layer in layers:
                check_choice(name, layer, LAYERS)


@TRAINABLE.register("adversarial_style")
class AdversarialStyle(TrainableMethod):
    """Photo -> painting in the style of a collection; batches are ``[photos, artworks]`` in [0, 1]."""

    method_name = "adversarial_style"
    network_name = "resnet_generator"
    recipe_class = AdversarialStyleRecipe
    data_folders = ("data", "style")

    def __init__(self, recipe: AdversarialStyleRecipe | None = None) -> None:
        self.recipe = recipe = recipe or AdversarialStyleRecipe()
        self.network_config = dict(blocks=recipe.blocks, base=recipe.base)
        self.generators = nn.ModuleDict({"G": ResnetGenerator(**self.network_config)})
        self.discriminators = nn.ModuleDict({"D": patch_discriminator(recipe, recipe.base * 2)})
        self.encoder = MultiLayerEncoder(list(recipe.content_layers) + list(recipe.style_layers))

    def perceptual_terms(self, photos: torch.Tensor, outputs: torch.Tensor,
                         artworks: torch.Tensor) -> dict[str, torch.Tensor]:
        """Relative content error to ``photos`` and Gram error to ``artworks`` (all (B, 3, H, W) in [0, 1])."""
        recipe = self.recipe
        with torch.no_grad():
            photo_features = self.encoder(photos, recipe.content_layers)
            art_features = self.encoder(artworks, recipe.style_layers)
        features = self.encoder(outputs)
        content = LF.relative_content_loss(features, photo_features)
        style = 0.0
        for name, art in art_features.items():
            target = LF.gram_matrix(art).mean(0, keepdim=True)  # the collection's Gram, over the batch
            style = style + LF.relative_gram_error(features[name], target).mean()
        return {"content": content, "style": style / len(art_features)}

    def _d(self, images: torch.Tensor) -> torch.Tensor:
        return self.discriminators["D"](diff_augment(images, self.recipe.diff_augment))

    def generator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        photos, artworks = batch
        fake = self.generators["G"](to_gan_range(photos))
        terms = self.perceptual_terms(photos, from_gan_range(fake), artworks)
        recipe = self.recipe
        terms = {"content": recipe.alpha * terms["content"], "style": recipe.beta * terms["style"],
                 "adversarial": recipe.lam * gan_loss(self._d(fake), True, recipe.gan_loss, for_discriminator=False)}
        terms["total"] = terms["content"] + terms["style"] + terms["adversarial"]
        return terms

    def discriminator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        photos, artworks = batch
        with torch.no_grad():
            fake = self.generators["G"](to_gan_range(photos))
        return {"total": real_fake_loss(self._d, to_gan_range(artworks), fake, self.recipe.gan_loss, self.recipe.r1)}

    def validation_metric(self, batch: list[torch.Tensor], generator: nn.Module) -> float:
        """α·content + β·style of held-out photos (the perceptual part of the objective)."""
        photos, artworks = batch
        terms = self.perceptual_terms(photos, from_gan_range(generator(to_gan_range(photos))), artworks)
        return (self.recipe.alpha * terms["content"] + self.recipe.beta * terms["style"]).item()

    def samples(self, batch: list[torch.Tensor], generator: nn.Module) -> torch.Tensor:
        photos = batch[0][:4]
        return torch.cat([photos, from_gan_range(generator(to_gan_range(photos)))])

    def export(self, trainer, folder, extra=None):
        return super().export(trainer, folder, {"encoder": ENCODER_ID, **(extra or {})})


@METHODS.register("adversarial_style")
class AdversarialStyleStylizer(GeneratorStylizer):
    """Stylize photos with a trained adversarial content-preserving style generator."""
