"""Training VGG16 inverters by reconstruction: photo -> encoder features at one level -> inverter ->
image close to the photo in pixels and in shallower VGG16 features (Huang & Belongie 2017, section 6;
Li et al. 2017, section 3.1). No style image is involved, so an inverter serves any style.

loss = pixel_weight · MSE(x̂, x) + feature_weight · Σ_l relative error of VGG16 features at the levels
relu1_1 .. min(level, feature_depth): the shallow levels sharpen edges and texture at a fraction of the
cost of re-encoding the output up to a deep level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.builtin import INVERTERS_FOLDER
from stylefuse.data.folders import AugmentedCrops, ImageFolder
from stylefuse.encoders.vgg import ENCODER_ID, MultiLayerEncoder
from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.losses import functional as LF
from stylefuse.methods._trainable import TrainableMethod, single_folder
from stylefuse.metrics.content import psnr
from stylefuse.nn.inverter import LEVELS, VGGInverter
from stylefuse.registry import TRAINABLE
from stylefuse.train.recipes import SizeRule, check_at_least, check_choice, check_size


@dataclass
class InverterRecipe:
    """Options of inverter training.

    Args:
        level: the encoder level to invert (relu1_1 .. relu5_1).
        size: training crop size in pixels.
        batch_size: crops per step.
        width: channel multiplier of the inverter (see :class:`VGGInverter`).
        pixel_weight: weight of the pixel MSE (what PSNR measures).
        feature_weight: weight of the feature reconstruction term (sharper detail).
        feature_depth: the deepest level of the feature term.
        augment: random scales, quarter turns, hue and saturation (see :class:`AugmentedCrops`); a
            few photos then generalise better to unseen photos and to the colours of paintings.
        init: start from the weights of this inverter model folder ("builtin": the shipped inverter of
            ``level``) instead of random ones: fine-tuning on new photos. Its level and width must match.
    """

    level: str = "relu4_1"
    size: int = 256
    batch_size: int = 8
    width: float = 0.5
    pixel_weight: float = 1.0
    feature_weight: float = 0.02
    feature_depth: str = "relu2_1"
    augment: bool = True
    init: str = ""

    def __post_init__(self) -> None:
        check_choice("level", self.level, LEVELS)
        check_choice("feature_depth", self.feature_depth, LEVELS)
        # the inverter upsamples the level's features by 2 per VGG pooling back to the crop
        check_size(self.size, SizeRule(minimum=32, multiple=2 ** LEVELS.index(self.level)))
        check_at_least("batch_size", self.batch_size, 1)
        check_at_least("width", self.width, 0, strict=True)
        check_at_least("pixel_weight", self.pixel_weight, 0)
        check_at_least("feature_weight", self.feature_weight, 0)


@TRAINABLE.register("inverter")
class InverterTraining(TrainableMethod):
    """A VGG16 inverter for AdaIN / WCT; batches are ``[photos (B, 3, S, S)]`` in [0, 1]."""

    method_name = "inverter"
    network_name = "vgg16_inverter"
    recipe_class = InverterRecipe
    data_folders = ("data",)
    default_lr = 5e-4
    default_betas = (0.9, 0.999)

    def __init__(self, recipe: InverterRecipe | None = None) -> None:
        self.recipe = recipe = recipe or InverterRecipe()
        self.network_config = dict(level=recipe.level, width=recipe.width)
        self.generators = nn.ModuleDict({"G": VGGInverter(**self.network_config)})
        if recipe.init:
            self._start_from(recipe.init)
        self.feature_levels = list(LEVELS[: min(LEVELS.index(recipe.level), LEVELS.index(recipe.feature_depth)) + 1])
        self.encoder = MultiLayerEncoder(dict.fromkeys(self.feature_levels + [recipe.level]))

    def _start_from(self, init: str) -> None:
        """Load the weights of the inverter folder ``init`` ("builtin": the shipped one) into G."""
        folder = INVERTERS_FOLDER / self.recipe.level if init == "builtin" else Path(init)
        network, document = load_model(folder)
        config = {key: document.get("config", {}).get(key) for key in self.network_config}
        if not isinstance(network, VGGInverter) or config != self.network_config:
            raise OptionError(f"--set init={init}: {folder} is not an inverter with level={self.recipe.level} "
                              f"and width={self.recipe.width:g} (it has {document.get('network')} {config})")
        self.generators["G"].load_state_dict(network.state_dict())

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        if not self.recipe.augment:
            return super().make_batches(folders, seed, report)
        photos = ImageFolder(single_folder(folders, "data"), max_side=2 * self.recipe.size, report=report)
        return AugmentedCrops(photos, self.recipe.size, self.recipe.batch_size, seed)

    def reconstruct(self, photos: torch.Tensor, generator: nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(reconstruction, the photos' features at the levels of the feature term)."""
        with torch.no_grad():
            encoded = self.encoder(photos)
        return generator(encoded[self.recipe.level]), {k: encoded[k] for k in self.feature_levels}

    def generator_loss(self, batch: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        photos = batch[0]
        output, targets = self.reconstruct(photos, self.generators["G"])
        recipe = self.recipe
        terms = {"pixel": recipe.pixel_weight * LF.content_loss(output, photos)}
        if recipe.feature_weight:
            features = self.encoder(output, self.feature_levels)
            feature = LF.relative_content_loss(features, targets)
            terms["feature"] = recipe.feature_weight * feature
        terms["total"] = sum(terms.values())
        return terms

    def validation_metric(self, batch: list[torch.Tensor], generator: nn.Module) -> float:
        """Negative mean PSNR (lower is better) on held-out crops."""
        output, _ = self.reconstruct(batch[0], generator)
        return -psnr(output, batch[0]).mean().item()

    def samples(self, batch: list[torch.Tensor], generator: nn.Module) -> torch.Tensor:
        photos = batch[0][:4]
        return torch.cat([photos, self.reconstruct(photos, generator)[0].clamp(0, 1)])

    def export(self, trainer, folder, extra=None):
        return super().export(trainer, folder, {"encoder": ENCODER_ID, "value_range": "[0, 1]",
                                                "level": self.recipe.level, **(extra or {})})
