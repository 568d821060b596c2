"""Personalising the multi-style network: learn a new style from a few images by training few
parameters, everything else frozen (transfer learning; for conditional instance norm, Dumoulin et al.
2017, section 4.2, show that a new style needs only its own (γ, β)).

The base network's S styles are kept as they are; the result has S + 1 styles, the new one last, so it
blends with the built-in ones (``--style my-style:0.5,starry-night:0.5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import torch
from torch import nn

from stylefuse.builtin import STYLES_FOLDER
from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.errors import OptionError
from stylefuse.fusion import sources
from stylefuse.hub import load_model, read_config
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods import style_statistics
from stylefuse.methods._trainable import fit_and_export
from stylefuse.methods.fast import FastRecipe, FastStyle, expand_style_inputs
from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.registry import TRAINABLE

FREEZE_STRATEGIES = {
    "norm-only": "only the new style's tables (conditional-norm (γ, β), channel mixes, colour map): under 2% of the "
                 "parameters",
    "last-layers": "the new style's tables and the last upsampling block and output convolution",
    "decoder": "the new style's tables and every upsampling block and the output convolution",
    "all": "every parameter (fine-tuning the whole network; the base styles change too)",
}
"""Names and meanings of the freezing strategies."""


@dataclass
class PersonalizeRecipe(FastRecipe):
    """Options of personalisation (see :class:`FastRecipe`); ``strategy`` is a :data:`FREEZE_STRATEGIES`
    name, ``base`` the multi-style model folder to extend ("builtin": the shipped one),
    ``validation_fraction`` the share of content photos held out for early stopping,
    ``warm_start`` whether the new style starts from the nearest base style (:meth:`Personalize.warm_start`)
    and ``fixed_batch`` whether every step sees the same crops (a deterministic objective, for L-BFGS).
    With a fixed batch, the first ``warmup_steps`` steps see only its first ``warmup_crops`` crops: a
    growing sample (Byrd, Chin, Nocedal & Wu 2012, "Sample size selection in optimization methods for
    machine learning"), cheap steps while the loss is far from its minimum, every crop near it."""

    base: str = "builtin"
    strategy: str = "norm-only"
    validation_fraction: float = 0.2
    warm_start: bool = True
    fixed_batch: bool = False
    warmup_crops: int | None = None
    warmup_steps: int = 0
    style_names: list[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.strategy not in FREEZE_STRATEGIES:
            raise OptionError(f"unknown --freeze {self.strategy!r}; choose from {', '.join(FREEZE_STRATEGIES)}")
        self.style_names = list(self.style_names or ["my-style"])


PREDICTED = "the predicted tables"
"""The warm-start candidate of a base with a style predictor."""


def base_folder(base: str | Path) -> Path:
    """The model folder of a base: "builtin" is the shipped one."""
    return STYLES_FOLDER if str(base) == "builtin" else Path(base)


def base_network(base: str | Path) -> tuple[FastStylizerNet, dict[str, Any]]:
    """The network and config document of a multi-style model folder ("builtin" for the shipped one)."""
    folder = base_folder(base)
    if str(base) == "builtin" and not (folder / "config.json").is_file():
        raise OptionError("this installation ships no built-in styles to personalise; give --base DIR")
    document = read_config(folder)
    if document["network"] != "fast_stylizer":
        raise OptionError(f"{folder} holds a {document.get('method', 'unknown')} model; personalise a multi-style "
                          "model (or a GAN model folder with its own base)")
    network, document = load_model(folder)
    return network, document


def extend_with_a_style(base: FastStylizerNet) -> FastStylizerNet:
    """A copy of ``base`` with one more style slot, initialised to the mean of the base styles' tables
    (a neutral starting point from which every base style is equally near)."""
    network = FastStylizerNet(**network_config(base, base.num_styles + 1))
    state = base.state_dict()
    for name in base.style_parameters():
        state[name] = torch.cat([state[name], state[name].mean(0, keepdim=True)])
    network.load_state_dict(state)
    return network


def network_config(network: FastStylizerNet, num_styles: int) -> dict[str, Any]:
    """The constructor arguments of ``network`` with ``num_styles`` styles (its predictor kept)."""
    config = dict(num_styles=num_styles, channels=[m.conv[1].out_channels for m in network.down],
                  blocks=len(network.blocks))
    return config if network.predictor_config is None else {**config, "predictor": network.predictor_config}


def freeze(network: FastStylizerNet, strategy: str) -> int:
    """Set ``requires_grad`` by strategy; for the per-style tables only the last row (the new style) gets
    gradients. Returns the number of trained parameters."""
    network.requires_grad_(strategy == "all")
    trained = sum(p.numel() for p in network.parameters()) if strategy == "all" else 0
    if strategy == "all":
        return trained
    open_modules: list[nn.Module] = []
    if strategy == "last-layers":
        open_modules = [network.up[-1].conv, network.to_rgb]
    elif strategy == "decoder":
        open_modules = [layer.conv for layer in network.up] + [network.to_rgb]
    for module in open_modules:
        module.requires_grad_(True)
        trained += sum(p.numel() for p in module.parameters())
    for table in network.style_parameters().values():
        table.requires_grad_(True)
        table.register_hook(_only_last_row)
        trained += table[-1].numel()
    return trained


def _only_last_row(gradient: torch.Tensor) -> torch.Tensor:
    kept = torch.zeros_like(gradient)
    kept[-1] = gradient[-1]  # copied, not multiplied by a mask: a non-finite base row cannot leak in
    return kept


@TRAINABLE.register("personalize")
class Personalize(FastStyle):
    """A new style for a multi-style network from a few images; batches are ``(photos, indices)`` with
    every index the new style's. :meth:`from_images` is the front end with each strategy's defaults."""

    method_name = "personalize"
    recipe_class = PersonalizeRecipe

    @staticmethod
    def from_images(style_images: list[Path], out: Path, base: str | Path = "builtin", freeze: str | None = None,
                    optimizer: str | None = None, size: int | None = None, name: str = "my-style",
                    data: Path | None = None, style_weight: float | None = None, **common: Any) -> dict[str, Any]:
        """Personalise ``base`` (a multi-style folder, "builtin", or a GAN generator folder, fine-tuned
        with FreezeD by :func:`.personalize_gan.personalize_gan`) from 1 to 10 ``style_images``; each
        kind of base has its own defaults for ``freeze``, ``optimizer`` and ``size``; ``style_weight``
        (multi-style bases: β of the perceptual loss, None: :class:`FastRecipe`'s) sets how strongly the
        new style is learned."""
        if not 1 <= len(style_images) <= 10:
            raise OptionError(f"give 1 to 10 images of the new style, got {len(style_images)}")
        if str(base) != "builtin" and read_config(base)["network"] != "fast_stylizer":
            from stylefuse.methods.personalize_gan import personalize_gan

            if style_weight is not None:
                raise OptionError("--style-weight is for the multi-style network; a GAN base learns the style "
                                  "from its discriminator")
            if optimizer == "lbfgs":
                raise OptionError("--optimizer lbfgs needs a deterministic objective; GAN bases train against a "
                                  "discriminator: use adam")
            return personalize_gan(style_images, out, Path(base), data or DEFAULT_PHOTOS, strategy=freeze or "decoder",
                                   size=size or 128, **common)
        if freeze is not None and freeze not in FREEZE_STRATEGIES:
            raise OptionError(f"unknown --freeze {freeze!r}; choose from {', '.join(FREEZE_STRATEGIES)}")
        return personalize_model(style_images, out, base=base, name=name, data=data, optimizer=optimizer,
                                 strategy=freeze or "norm-only", size=size or 256, style_weight=style_weight,
                                 **common)

    def __init__(self, recipe: PersonalizeRecipe | None = None) -> None:
        recipe = recipe or PersonalizeRecipe()
        base = recipe.base
        base_net, document = base_network(base)
        recipe.channels = [m.conv[1].out_channels for m in base_net.down]
        recipe.blocks = len(base_net.blocks)
        super().__init__(recipe, num_styles=base_net.num_styles + 1)
        network = extend_with_a_style(base_net)
        self.generators["G"] = network
        self.network_config = network_config(network, network.num_styles)
        self.base_names = list(document.get("style_names") or [])
        self.new_name = recipe.style_names[0]
        if self.new_name in self.base_names:
            raise OptionError(f"the base already has a style named {self.new_name!r}; choose another --name")
        self.style_names = self.base_names + [self.new_name]
        self.base_sources = sources.aligned(document, len(self.base_names))
        self.style_files: list[dict[str, str]] = []
        self.base_statistics = style_statistics.load_statistics(base_folder(base), base_net.num_styles)
        self.new_statistics: style_statistics.Descriptor | None = None
        self.start_scores: dict[str, float] = {}
        """The warm-start candidates' scores on the photos :meth:`warm_start` was given (empty: one candidate)."""
        self.predictor_input: torch.Tensor | None = None
        """(F,) the base predictor's input for the new style: the mean over its images, each seen at the
        predictor's own size (which need not be ``style_size``)."""
        self.trained_parameters = freeze(network, recipe.strategy)
        self.total_parameters = sum(p.numel() for p in network.parameters())
        self.ema_generator = None  # few steps: the last weights, validated, are what we keep
        self._fixed_targets: list[tuple[torch.Tensor, dict[str, torch.Tensor]]] = []
        """The fixed training batches (``recipe.fixed_batch``: the warm-up crops and all of them) with their
        content targets, computed once."""

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """Gram targets: the mean over the new style's images; photos split into training crops
        (steps >= 0) and validation crops (steps < 0)."""
        paths = expand_style_inputs(folders.get("style"))
        if not 1 <= len(paths) <= 10:
            raise OptionError(f"give 1 to 10 images of the new style, got {len(paths)}")
        self._set_new_style([read_image(path).rgb for path in paths])
        self.style_sources = self.base_sources + [sources.entry(paths)]  # what `stylefuse eval` runs on
        self.style_files = sources.files_record(paths)
        photos = ImageFolder(folders["data"], max_side=2 * self.recipe.size, report=report)
        held = max(1, round(len(photos) * self.recipe.validation_fraction)) if len(photos) > 1 else 0
        train_set, valid_set = _split(photos, held)
        train = UnpairedCrops([train_set], self.recipe.size, self.recipe.batch_size, seed)
        # validation batches keep 4 crops whatever the training batch, so that early stopping sees as many
        valid = UnpairedCrops([valid_set], self.recipe.size, max(4, self.recipe.batch_size), seed + 1)
        new_style = self.generators["G"].num_styles - 1
        fixed, warmup = self._fixed_batches(train(0)[0]) if self.recipe.fixed_batch else (None, None)

        def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            if step < 0:
                photos = valid(step)[0]
            elif fixed is None:
                photos = train(step)[0]
            else:  # L-BFGS keeps its history when the batch grows: one curvature pair mixes the two objectives
                photos = warmup if step < self.recipe.warmup_steps else fixed
            return photos, torch.full((photos.shape[0],), new_style)

        if self.recipe.warm_start:
            chosen = self.warm_start((fixed if fixed is not None else train(0)[0])[:2])
            if report:
                report(f"starting from {chosen}")
        return batches

    @torch.no_grad()
    def warm_start(self, photos: torch.Tensor) -> str:
        """Start the new style's tables ((γ, β), channel mixes, colour map) from the nearest base style, or from
        the tables the base's style predictor (Ghiasi et al. 2017) gives the new style's statistics. When the base
        folder describes its styles (:mod:`.style_statistics`), the nearest is found by comparing feature
        statistics, at no cost; otherwise each base style, and their mean (the starting point otherwise),
        is a candidate. With several candidates (the predicted tables are one), each is scored by
        α·content + β·style on ``photos`` (B, 3, H, W), one forward and loss pass per candidate.

        Returns:
            The name of the chosen candidate.
        """
        network: FastStylizerNet = self.generators["G"]
        new = network.num_styles - 1
        names = self.base_names if len(self.base_names) == new else [f"base style {i}" for i in range(new)]
        candidates = {"the mean of the base styles": new, **{name: i for i, name in enumerate(names)}}
        tables = [(table, table.clone()) for table in network.style_parameters().values()]
        predicted = None
        if network.predictor_config is not None and self.predictor_input is not None:
            predicted = network.predict_tables(self.predictor_input[None])

        def use(row: int | str) -> None:
            if row == PREDICTED:
                network.set_style_tables(new, predicted)
                return
            for table, before in tables:
                table[new] = before[row]

        if self.base_statistics is not None and self.new_statistics is not None:
            row = style_statistics.nearest(self.base_statistics, self.new_statistics)
            candidates = {names[row]: row}
        if predicted is not None:
            candidates[PREDICTED] = PREDICTED
        self.start_scores = {}
        if len(candidates) == 1:
            use(next(iter(candidates.values())))
            return next(iter(candidates))
        indices = torch.full((photos.shape[0],), new)
        for name, row in candidates.items():
            use(row)
            self.start_scores[name] = self.validation_metric((photos, indices), network)
        best = min(self.start_scores, key=self.start_scores.get)
        use(candidates[best])
        return best

    def _fixed_batches(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed batch ``crops`` (B, 3, S, S) and its warm-up part (the first ``warmup_crops``, or all
        of them), whose content targets :meth:`photo_features` then computes once."""
        warmup = crops[: self.recipe.warmup_crops] if self.recipe.warmup_crops else crops
        self._fixed_targets = [(crops, super().photo_features(crops))]
        if warmup is not crops:
            self._fixed_targets.append((warmup, {name: value[: len(warmup)]
                                                 for name, value in self._fixed_targets[0][1].items()}))
        return crops, warmup

    def photo_features(self, photos: torch.Tensor) -> dict[str, torch.Tensor]:
        """Content targets; those of the fixed batches are computed once, which saves a VGG16 pass over
        the photos per training step."""
        for batch, targets in self._fixed_targets:
            if photos is batch:
                return targets
        return super().photo_features(photos)

    @torch.no_grad()
    def _set_new_style(self, images: list[torch.Tensor]) -> None:
        """Targets of the new style: the mean Gram matrices and descriptor over its images."""
        slots = self.generators["G"].num_styles
        targets = [self.style_targets(image) for image in images]
        means = {name: torch.stack([grams[name] for grams, _ in targets]).mean(0) for name in targets[0][0]}
        self.style_grams = {name: gram.expand(slots, -1, -1).clone() for name, gram in means.items()}
        self.new_statistics = style_statistics.mean_descriptor([descriptor for _, descriptor in targets])
        network: FastStylizerNet = self.generators["G"]
        if network.predictor_config is not None:
            predictor = network.predictor
            self.predictor_input = torch.cat([predictor.batch_features(self.encoder(
                ops.resize_long_side(image, predictor.style_size).clamp(0, 1)[None], predictor.layers))
                for image in images]).mean(0)
        if self.base_statistics is not None:
            self.style_statistics = style_statistics.append(self.base_statistics, self.new_statistics)

    def samples(self, batch, generator):
        photos = batch[0][:4]
        return torch.cat([photos, generator(photos, nn.functional.one_hot(batch[1][:4], generator.num_styles).float())])

    def export(self, trainer, folder, extra=None):
        from stylefuse.fusion.lineage import derived_from

        return super().export(trainer, folder, {"base_styles": self.base_names, "strategy": self.recipe.strategy,
                                                "default_style": self.new_name, "style_files": self.style_files,
                                                **derived_from(base_folder(self.recipe.base)),
                                                "trained_parameters": self.trained_parameters, **(extra or {})})


def _split(photos: ImageFolder, held: int) -> tuple[ImageFolder, ImageFolder]:
    """(training, validation) views of a folder: the last ``held`` images validate (all train and
    validate when there is a single photo)."""
    import copy

    if held == 0:
        return photos, photos
    train, valid = copy.copy(photos), copy.copy(photos)
    train.paths, train.images = photos.paths[:-held], photos.images[:-held]
    valid.paths, valid.images = photos.paths[-held:], photos.images[-held:]
    return train, valid


class TrainingDefaults(NamedTuple):
    optimizer: str
    lr: float
    batch_size: int
    steps: int
    warmup_crops: int | None = None
    warmup_steps: int = 0


def training_defaults(strategy: str, optimizer: str | None = None) -> TrainingDefaults:
    """Optimiser, learning rate, photos per step and steps by strategy (and optimiser, when chosen).

    Norm-only trains a few thousand values, so it defaults to L-BFGS (a quasi-Newton step from the
    curvature of the last 20 steps) on one fixed set of 4 crops, the first 8 steps (at most half the run)
    on 2 of them, at half the cost: a growing sample (docs/benchmarks.md has the comparisons).
    Strategies that move convolution weights use Adam at the usual 1e-3 with 4 new photos per step.
    """
    if optimizer is None:
        optimizer = "lbfgs" if strategy == "norm-only" else "adam"
    if optimizer not in ("adam", "lbfgs"):
        raise OptionError(f"unknown --optimizer {optimizer!r}; choose adam or lbfgs")
    if optimizer == "lbfgs":
        return TrainingDefaults("lbfgs", 1.0, 4, 50, warmup_crops=2, warmup_steps=8)
    return TrainingDefaults("adam", 1e-1, 2, 300) if strategy == "norm-only" else TrainingDefaults("adam", 1e-3, 4, 300)


def personalize_recipe(defaults: TrainingDefaults, strategy: str, size: int, name: str,
                       batch_size: int | None = None, steps: int | None = None,
                       base: str | Path = "builtin", style_weight: float | None = None) -> PersonalizeRecipe:
    """The recipe for ``defaults`` (:func:`training_defaults`): L-BFGS trains on a fixed batch, growing
    from its warm-up crops for at most half of ``steps`` (default: the defaults' steps); ``batch_size``
    replaces the default number of crops, ``style_weight`` (None: :class:`FastRecipe`'s) the style term's
    weight."""
    crops = defaults.batch_size if batch_size is None else batch_size
    lbfgs = defaults.optimizer == "lbfgs"
    warmup = lbfgs and defaults.warmup_crops is not None and defaults.warmup_crops < crops
    warmup_steps = min(defaults.warmup_steps, (defaults.steps if steps is None else steps) // 2)
    return PersonalizeRecipe(base=str(base), size=size, batch_size=crops, strategy=strategy, style_names=[name],
                             fixed_batch=lbfgs,
                             warmup_crops=defaults.warmup_crops if warmup else None,
                             warmup_steps=warmup_steps if warmup else 0,
                             **({} if style_weight is None else {"style_weight": style_weight}))


DEFAULT_PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"
"""Content photos shipped with stylefuse, used when no --data is given."""


def personalize_model(style_images: list[Path], out: Path, base: str | Path = "builtin", name: str = "my-style",
                      data: Path | None = None, strategy: str = "norm-only", steps: int | None = None,
                      size: int = 256, batch_size: int | None = None, lr: float | None = None,
                      optimizer: str | None = None, validate_every: int | None = None, patience: int = 4,
                      max_minutes: float | None = None, seed: int = 0, progress: bool = True, overwrite: bool = False,
                      device: str = "cpu", style_weight: float | None = None,
                      report: Callable[[str], None] = print) -> dict[str, Any]:
    """Train a new style into a copy of ``base`` and write the result to ``out`` (a model folder).

    Prints what it trains (parameter counts) and a time estimate from one measured step, then trains
    with early stopping on held-out photos and exports the best validated weights. Options left None
    take :func:`training_defaults`; validation runs 6 times per run unless ``validate_every`` says
    otherwise (0 = never).

    Returns:
        The trainer's summary plus ``state`` ("done", "stopped early" or "interrupted").
    """
    import time

    from stylefuse.train.loop import TrainOptions

    torch.manual_seed(seed)
    defaults = training_defaults(strategy, optimizer)
    steps = defaults.steps if steps is None else steps
    validate_every = max(1, steps // 6) if validate_every is None else validate_every
    task = Personalize(personalize_recipe(defaults, strategy, size, name, batch_size, steps, base, style_weight))
    batches = task.make_batches({"data": data or DEFAULT_PHOTOS, "style": list(style_images)}, seed,
                                report=report)
    share = 100 * task.trained_parameters / task.total_parameters
    report(f"training {task.trained_parameters:,} of {task.total_parameters:,} parameters ({share:.2f}%): "
           f"{strategy} = {FREEZE_STRATEGIES[strategy]}")
    started = time.perf_counter()
    first = batches(0)
    task.generator_loss(first)["total"].backward()
    task.generators.zero_grad(set_to_none=True)
    recipe = task.recipe  # a step costs about its crops
    crop_steps = recipe.batch_size * steps - (recipe.batch_size - len(first[0])) * min(recipe.warmup_steps, steps)
    estimate = (time.perf_counter() - started) / len(first[0]) * crop_steps
    report(f"estimated time: {estimate / 60:.1f} min for {steps} {defaults.optimizer} steps on this machine")
    # L-BFGS keeps its step scale: its steps already shrink where the curvature says so
    decay_from = 1.0 if defaults.optimizer == "lbfgs" else 0.5
    options = TrainOptions(steps=steps, lr=defaults.lr if lr is None else lr, betas=(0.9, 0.999),
                           optimizer=defaults.optimizer, decay_from=decay_from, ema_decay=None, checkpoint_every=100,
                           sample_every=100,
                           validate_every=validate_every, patience=patience if validate_every else 0, seed=seed,
                           progress=progress, max_seconds=max_minutes * 60 if max_minutes else None,
                           overwrite=overwrite, device=device)
    return fit_and_export(task, batches, options, out, validate=task.validator(batches) if validate_every else None)
