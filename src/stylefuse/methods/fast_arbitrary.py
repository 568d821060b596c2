"""Training the style predictor of the multi-style fast network on paintings (Ghiasi et al. 2017, "Exploring
the structure of a real-time, arbitrary neural artistic stylization network"): each step stylizes photos with
the tables predicted from a painting's VGG16 statistics and scores them with the fast network's perceptual
loss (relative content error at relu3_3, relative Gram error at relu1_2..relu4_3) against that painting.

The network starts from a trained multi-style folder (the built-in one): its named styles stay entries of the
same network, and the predictor starts at the mean of their tables (:class:`StylePredictor`). By default only
the predictor trains (the trunk and the named tables stay as they are, so named styles give the same images);
``train_trunk`` also trains the shared convolutions and the named tables, with ``named_every``-th batch items
drawn from the named styles so that they are not forgotten.

A CPU has little time for VGG16 passes, so each training painting's style targets are computed once, before
training: ``augmentations`` random views per painting (scaled around ``style_size``, cropped to
``style_crop``, maybe mirrored: what keeps a painting's style), each with its statistics (the predictor's
input) and its Gram matrices (the loss target). Validation pairs held-out photos with held-out paintings seen
whole at ``style_size``, as at inference.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops, step_generator
from stylefuse.encoders.vgg import ENCODER_ID
from stylefuse.errors import OptionError
from stylefuse.fileutil import atomic_write
from stylefuse.image import ops
from stylefuse.losses import functional as LF
from stylefuse.methods import style_statistics
from stylefuse.methods.fast import FastRecipe, FastStyle, expand_style_inputs
from stylefuse.methods.personalize import base_folder, base_network
from stylefuse.nn.fast_stylizer import FastStylizerNet, Tables
from stylefuse.nn.style_predictor import CHANNELS, LAYERS
from stylefuse.registry import TRAINABLE
from stylefuse.train.recipes import check_at_least


@dataclass
class ArbitraryRecipe(FastRecipe):
    """Options of style-predictor training (besides :class:`FastRecipe`'s crop size, batch and loss weights).

    Args:
        base: the multi-style model folder to start from ("builtin": the shipped one).
        augmentations: random views of each training painting whose targets are computed before training.
        style_crop: side of a view's square crop, in pixels (at most the scaled painting's short side).
        min_scale, max_scale: range of the view's long side, relative to ``style_size``.
        hidden, bottleneck: widths of the predictor (see :class:`~stylefuse.nn.style_predictor.StylePredictor`).
        train_trunk: also train the shared convolutions and the named styles' tables.
        named_every: with ``train_trunk``, every ``named_every``-th batch item is a named style (0: none).
        predictor_size: long side at which the predictor sees a painting (0: ``style_size``); smaller is
            cheaper at inference. The loss targets stay at ``style_size``; each view's statistics are taken
            from the view scaled by ``predictor_size / style_size``, as the whole painting is at inference.
        keep_predictor: fine-tune the base folder's predictor (its weights kept, its input standardisation
            refitted to the new statistics) instead of starting at the named styles' mean.
    """

    size: int = 128
    batch_size: int = 2
    style_weight: float = 2.0
    base: str = "builtin"
    augmentations: int = 3
    style_crop: int = 256
    min_scale: float = 0.8
    max_scale: float = 1.25
    hidden: int = 256
    bottleneck: int = 100
    train_trunk: bool = False
    named_every: int = 2
    predictor_size: int = 0
    keep_predictor: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_at_least("augmentations", self.augmentations, 1)
        if self.predictor_size:
            check_at_least("predictor_size", self.predictor_size, 32)
        check_at_least("style_crop", self.style_crop, 32)
        if not 0 < self.min_scale <= self.max_scale:
            raise ValueError(f"need 0 < min_scale <= max_scale, got {self.min_scale} and {self.max_scale}")


@TRAINABLE.register("fast-arbitrary")
class ArbitraryFast(FastStyle):
    """The fast network with a style predictor; batches are ``(photos (B,3,S,S), targets (B,), named (B,))``:
    each item's style target (a painting view) and, for named-style items, the style's index (else -1)."""

    method_name = "fast"
    recipe_class = ArbitraryRecipe
    default_lr = 2e-4  # 1e-3 made the validation loss spike (src/stylefuse/weights/README.md)

    def __init__(self, recipe: ArbitraryRecipe | None = None) -> None:
        recipe = recipe or ArbitraryRecipe()
        base, document = base_network(recipe.base)
        recipe.channels = [m.conv[1].out_channels for m in base.down]
        recipe.blocks = len(base.blocks)
        super().__init__(recipe, num_styles=base.num_styles)
        predictor = dict(layers=list(LAYERS), channels=list(CHANNELS), hidden=recipe.hidden,
                         bottleneck=recipe.bottleneck, style_size=recipe.predictor_size or recipe.style_size)
        self.network_config = dict(num_styles=base.num_styles, channels=list(recipe.channels), blocks=recipe.blocks,
                                   predictor=predictor)
        network = FastStylizerNet(**self.network_config)
        if recipe.keep_predictor and base.predictor_config is None:
            raise OptionError(f"keep_predictor needs a base with a style predictor; {recipe.base} has none")
        kept = {key: value for key, value in base.state_dict().items()
                if recipe.keep_predictor or not key.startswith("predictor.")}
        network.load_state_dict({**network.state_dict(), **kept})
        network.requires_grad_(recipe.train_trunk)
        network.predictor.requires_grad_(True)
        self.generators["G"] = network
        self.ema_generator = None  # short CPU runs: EMA would lag behind the few steps
        self.style_names = list(document.get("style_names") or [])
        self.style_sources = list(document.get("style_sources") or [])
        self.style_statistics = style_statistics.load_statistics(base_folder(recipe.base), base.num_styles)
        self.features = torch.zeros(0)
        """(N, F) predictor inputs of every target: training views, then validation paintings, then named styles."""
        self.validation_targets = range(0)
        self.named_targets: list[int] = []

    # --- data ----------------------------------------------------------------------------------------

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """Targets of every painting view, then ``batches(step)``: training photos and painting views for
        steps >= 0, validation photos and paintings (``folders["validation_data"]`` and
        ``["validation_style"]``, else the training ones) for steps < 0.

        Args:
            folders: "data" photos and "style" paintings (folders or lists of files); optionally
                "validation_data", "validation_style", "named" (the named styles' images, in the
                model's order, for ``named_every``) and "targets_cache" (a file that keeps the targets
                between runs: a resumed run does not encode the paintings again).
        """
        recipe = self.recipe
        paintings = expand_style_inputs(_paths(folders.get("style")))
        if not paintings:
            raise OptionError("fast-arbitrary training needs --style paintings")
        held = expand_style_inputs(_paths(folders.get("validation_style"))) or paintings
        named = expand_style_inputs(_paths(folders.get("named")))
        cache = folders.get("targets_cache")
        key = self._targets_key(paintings, held, named, seed)
        stored = torch.load(cache, weights_only=True) if cache and Path(cache).is_file() else None
        if stored is None or stored["key"] != key:
            stored = self._compute_targets(paintings, held, named, seed, report)
            stored["key"] = key
            if cache:
                atomic_write(Path(cache), lambda target: torch.save(stored, target))
        self.style_grams, self.features = stored["grams"], stored["features"]
        views, whole = int(stored["views"]), int(stored["whole"])
        self.validation_targets = range(views, views + whole)
        self.named_targets = list(range(views + whole, len(self.features)))
        network: FastStylizerNet = self.generators["G"]
        network.predictor.fit_inputs(self.features[:views])
        if not recipe.keep_predictor:
            network.predictor.start_at(network.flatten_tables(network.tables(
                torch.full((1, network.num_styles), 1.0 / network.num_styles)))[0])

        photos = ImageFolder(_paths(folders["data"]), max_side=2 * recipe.size, report=report)
        valid_photos = folders.get("validation_data")
        valid = ImageFolder(_paths(valid_photos), max_side=2 * recipe.size, report=report) if valid_photos else photos
        train_crops = UnpairedCrops([photos], recipe.size, recipe.batch_size, seed)
        valid_crops = UnpairedCrops([valid], recipe.size, recipe.batch_size, seed + 1)
        count, batch_size = views, recipe.batch_size
        every = recipe.named_every if recipe.train_trunk and self.named_targets else 0

        def batches(step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            generator = step_generator(seed + 2, step)
            named_index = torch.full((batch_size,), -1)
            if step < 0:
                picks = torch.arange(batch_size) + (-1 - step) * batch_size
                return valid_crops(step)[0], self.validation_targets[0] + picks % len(self.validation_targets), \
                    named_index
            target = torch.randint(count, (batch_size,), generator=generator)
            for item in range(batch_size):
                if every and (step * batch_size + item) % every == every - 1:
                    named_index[item] = (step * batch_size + item) // every % len(self.named_targets)
                    target[item] = self.named_targets[int(named_index[item])]
            return train_crops(step)[0], target, named_index

        return batches

    def _targets_key(self, paintings: list[Path], held: list[Path], named: list[Path], seed: int) -> str:
        """What decides the targets: the images, the seed and the recipe's view and style settings."""
        recipe = self.recipe
        settings = [recipe.style_size, recipe.style_crop, recipe.augmentations, recipe.min_scale, recipe.max_scale,
                    list(recipe.style_layers), seed, ENCODER_ID]
        if recipe.predictor_size not in (0, recipe.style_size):  # appended only then: older caches stay valid
            settings.append(recipe.predictor_size)
        files = [[str(path), path.stat().st_size] for path in [*paintings, None, *held, None, *named] if path]
        return hashlib.sha256(json.dumps([settings, files, len(held)]).encode()).hexdigest()

    def _compute_targets(self, paintings: list[Path], held: list[Path], named: list[Path], seed: int,
                         report: Callable[[str], None] | None) -> dict[str, Any]:
        """Gram targets {layer: (N, C, C)} and predictor inputs (N, F) of the training views, then of the
        validation paintings and the named styles' paintings (whole, at ``style_size``)."""
        recipe = self.recipe
        load = ImageFolder  # paintings are scaled per view below; keep enough pixels for the largest view
        views = self._view_targets(load(paintings, max_side=round(recipe.style_size * recipe.max_scale), report=report),
                                   seed, report)
        whole = [self._whole_targets(image) for image in load(held, report=report).images]
        whole_named = [self._whole_targets(image) for image in load(named, report=report).images] if named else []
        targets = views + whole + whole_named
        # bfloat16: half the memory, and Gram entries of caffe-scaled features overflow float16
        grams = {name: torch.stack([grams[name] for grams, _ in targets]).bfloat16() for name in targets[0][0]}
        return {"grams": grams, "features": torch.stack([features for _, features in targets]),
                "views": len(views), "whole": len(whole)}

    @torch.no_grad()
    def _view_targets(self, paintings: ImageFolder, seed: int,
                      report: Callable[[str], None] | None) -> list[tuple[dict[str, torch.Tensor], torch.Tensor]]:
        """The targets of ``augmentations`` random views of each painting (seeded per painting)."""
        recipe, targets = self.recipe, []
        for index, image in enumerate(paintings.images):
            generator = step_generator(seed + 3, index)
            for _ in range(recipe.augmentations):
                draw = float(torch.rand((), generator=generator))
                scale = recipe.min_scale + (recipe.max_scale - recipe.min_scale) * draw
                view = ops.resize_long_side(image, max(32, round(recipe.style_size * scale))).clamp(0, 1)
                side = min(recipe.style_crop, *view.shape[-2:])
                top = int(torch.randint(view.shape[-2] - side + 1, (), generator=generator))
                left = int(torch.randint(view.shape[-1] - side + 1, (), generator=generator))
                view = view[:, top:top + side, left:left + side]
                if bool(torch.rand((), generator=generator) < 0.5):
                    view = view.flip(-1)
                targets.append(self._targets(view))
            if report and (index + 1) % 25 == 0:
                report(f"style targets: {index + 1}/{len(paintings.images)} paintings")
        return targets

    def _whole_targets(self, painting: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The targets of a whole painting: Gram matrices at ``style_size``, the predictor's input as at
        inference (the painting scaled once, to the predictor's size)."""
        size, style_size = self.generators["G"].predictor.style_size, self.recipe.style_size
        return self._targets(ops.resize_long_side(painting, style_size).clamp(0, 1),
                             ops.resize_long_side(painting, size).clamp(0, 1) if size != style_size else None)

    @torch.no_grad()
    def _targets(self, image: torch.Tensor,
                 seen: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Gram matrices {layer: (C, C)} and predictor input (F,) of one view (3, H, W) at ``style_size``
        scale; the predictor sees ``seen``, else the view scaled by ``predictor_size / style_size``."""
        recipe = self.recipe
        features = self.encoder(image[None], recipe.style_layers)
        predictor = self.generators["G"].predictor
        if seen is None and predictor.style_size != recipe.style_size:
            scale = predictor.style_size / recipe.style_size
            seen = ops.resize(image, tuple(max(16, round(side * scale)) for side in image.shape[-2:]))
        encoded = features if seen is None else self.encoder(seen[None], predictor.layers)
        return {name: LF.gram_matrix(value)[0] for name, value in features.items()}, \
            predictor.batch_features(encoded)[0]

    # --- losses --------------------------------------------------------------------------------------

    def item_tables(self, network: FastStylizerNet, targets: torch.Tensor, named: torch.Tensor) -> Tables:
        """Each item's tables: predicted from its view's statistics, or its named style's."""
        tables = network.predict_tables(self.features[targets].to(next(network.parameters()).device))
        if bool((named >= 0).any()):
            own = network.tables(nn.functional.one_hot(named.clamp_min(0), network.num_styles).float().to(
                tables["colour"].device))
            use = (named >= 0).to(tables["colour"].device)
            tables = {name: torch.where(use.view(-1, *[1] * (value.ndim - 1)), own[name], value)
                      for name, value in tables.items()}
        return tables

    def _loss_terms(self, batch, network: FastStylizerNet) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        photos, targets, named = batch
        if not len(self.features):
            raise RuntimeError("call make_batches() first")
        outputs = network.forward_tables(photos, self.item_tables(network, targets, named))
        return outputs, self.perceptual_terms(photos, outputs, targets)

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        outputs, terms = self._loss_terms(batch, self.generators["G"])
        return self.weighted_terms(outputs, terms)

    def validation_metric(self, batch, generator: nn.Module) -> float:
        """α·content + β·style of held-out photos stylized with held-out paintings' predicted tables."""
        _, terms = self._loss_terms(batch, generator)
        return self.validation_value(terms)

    def samples(self, batch, generator: nn.Module) -> torch.Tensor:
        """Each photo beside its stylized version."""
        photos, targets, named = batch
        with torch.no_grad():
            outputs = generator.forward_tables(photos, self.item_tables(generator, targets, named))
        return torch.cat([photos, outputs])


def _paths(value: Any) -> Any:
    """A folder, or a list of files (a list holding one folder is that folder)."""
    if isinstance(value, (list, tuple)) and len(value) == 1 and Path(value[0]).is_dir():
        return Path(value[0])
    return value
