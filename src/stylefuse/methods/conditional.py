"""One conditional generator for restoration and procedural styles: G(x, task) (StarGAN's task label, Choi
et al. 2018, through FiLM tables and residual adapters; see :mod:`stylefuse.nn.conditional`).

Training pairs are made on the fly from photos: restoration tasks degrade a crop and ask for the crop back
(:mod:`stylefuse.data.degrade`), style tasks ask for a procedural filter of the crop (XDoG sketch, cartoon,
Kuwahara oil, pointillism). Each sample of a batch draws its task, so every step trains the trunk on a mix;
the loss is L1 (or MSE) to the target.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from stylefuse.data.degrade import DEGRADATIONS, RESTORATION_TASKS, Degraded
from stylefuse.data.folders import ImageFolder, crop_and_flip, step_generator
from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.image import ops
from stylefuse.methods._base import NO_STYLE, Stylizer
from stylefuse.methods._trainable import TrainableMethod, single_folder
from stylefuse.nn.conditional import MULTIPLE, PHASES, ConditionalNet
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.train.recipes import SizeRule, check_at_least, check_choice, check_size, option_value

STYLE_TASKS = {"sketch": ("stylefuse.image.procedural", "sketch"),
               "cartoon": ("stylefuse.image.procedural", "cartoon"),
               "oil": ("stylefuse.image.procedural", "oil"),
               "pointillism": ("stylefuse.image.pointillism", "pointillism")}
"""Procedural style domains: task -> (module, function) of a filter (3, H, W) -> (3, H, W) in [0, 1]."""
KNOWN_TASKS = (*DEGRADATIONS, *STYLE_TASKS)
"""Every task a conditional model can be trained on from photos alone."""
TASK_WEIGHTS = {"denoise": 2.0}
"""Sampling weight of a task in a batch (others 1): denoising has the most levels to learn."""
DEFAULT_PHASES = {"denoise": 4}
"""Tasks whose results gain from averaging the network over the four placements of its pixel grid (see
:data:`~stylefuse.nn.conditional.PHASES`; measured in the README's restoration section); the others run once."""
RECEPTIVE_MARGIN = 64
"""Context pixels around each inference tile: at least the network's receptive radius (about 62 px for the
default trunk), so tiles reproduce a single pass."""


def style_filter(task: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The procedural filter of style task ``task`` (imported on first use)."""
    module, name = STYLE_TASKS[task]
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise OptionError(f"style task {task} needs {module}.{name}, which this stylefuse lacks") from None


def degrade_for(task: str, clean: torch.Tensor, generator: torch.Generator) -> Degraded:
    """A training pair of ``task`` from clean crops (B, 3, H, W): a degradation, or a procedural style of
    each crop (the input is the crop itself)."""
    if task in DEGRADATIONS:
        return DEGRADATIONS[task](clean, generator)
    zeros = clean.new_zeros(clean.shape[0])
    if task == "pointillism":  # its dot positions come from the batch's generator too
        seeds = torch.randint(0, 2**31 - 1, (clean.shape[0],), generator=generator).tolist()
        target = torch.stack([style_filter(task)(image, seed=seed) for image, seed in zip(clean, seeds)])
    else:
        target = torch.stack([style_filter(task)(image) for image in clean])
    return Degraded(clean, target.clamp(0, 1), zeros[:, None, None, None].expand(-1, 1, *clean.shape[-2:]).clone(),
                    zeros)


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""(inputs (B, 3, H, W), targets (B, 3, H, W), masks (B, 1, H, W), noise levels (B,), task ids (B,))."""


def task_batch(clean: torch.Tensor, ids: torch.Tensor, tasks: Sequence[str], generator: torch.Generator,
               level_given: float = 0.5) -> Batch:
    """Degrade each crop of ``clean`` for its task id, all from ``generator`` (in task order, so the batch is a
    function of the generator's seed); the noise level is hidden (0) from a ``1 - level_given`` share."""
    inputs, targets = clean.clone(), clean.clone()
    masks, levels = clean.new_zeros(clean.shape[0], 1, *clean.shape[-2:]), clean.new_zeros(clean.shape[0])
    for index, task in enumerate(tasks):
        chosen = (ids == index).nonzero().flatten()
        if len(chosen):
            pair = degrade_for(task, clean[chosen], generator)
            inputs[chosen], targets[chosen], masks[chosen], levels[chosen] = pair
    hidden = torch.rand(clean.shape[0], generator=generator) >= level_given
    return inputs, targets, masks, torch.where(hidden, 0.0, levels), ids


class TaskCrops:
    """Training batches of :func:`task_batch` from random crops of photos, ``batches(step)`` a function of
    ``(seed, step)`` alone.

    Args:
        photos: the clean photos.
        tasks: task names in id order; ``weights`` their sampling weights (None: :data:`TASK_WEIGHTS`).
    """

    def __init__(self, photos: ImageFolder, tasks: Sequence[str], size: int, batch_size: int, seed: int = 0,
                 weights: Sequence[float] | None = None, level_given: float = 0.5) -> None:
        self.photos, self.tasks, self.size, self.batch_size, self.seed = photos, list(tasks), size, batch_size, seed
        self.weights = torch.tensor(list(weights) if weights is not None
                                    else [TASK_WEIGHTS.get(task, 1.0) for task in self.tasks])
        self.level_given = level_given

    def __call__(self, step: int) -> Batch:
        generator = step_generator(self.seed, step)
        picks = torch.randint(0, len(self.photos), (self.batch_size,), generator=generator).tolist()
        clean = torch.stack([crop_and_flip([self.photos.images[i]], self.size, generator)[0] for i in picks])
        ids = torch.multinomial(self.weights, self.batch_size, replacement=True, generator=generator)
        return task_batch(clean, ids, self.tasks, generator, self.level_given)


def check_tasks(tasks: Sequence[str], field_name: str = "tasks") -> None:
    """Refuse an empty list, repeated names or names no degradation or filter makes."""
    if not tasks:
        raise OptionError(f"{option_value(field_name, '')}: give at least one task")
    unknown = [task for task in tasks if task not in KNOWN_TASKS]
    if unknown:
        raise OptionError(f"unknown task {unknown[0]!r}; choose from {', '.join(KNOWN_TASKS)}")
    if len(set(tasks)) != len(tasks):
        raise OptionError(f"{option_value(field_name, ','.join(tasks))}: a task is named twice")


@dataclass
class ConditionalRecipe:
    """Options of conditional training.

    Args:
        tasks: the tasks, of :data:`KNOWN_TASKS`.
        size: crop size in pixels (a multiple of 4 from 16 up).
        batch_size: crops per step, each of a random task.
        channels, wide_channels, blocks, rank: the network (:class:`~stylefuse.nn.conditional.ConditionalNet`).
        loss: "l1" or "mse" to the target.
        photo_side: photos are first scaled so that their short side is at most this.
        level_given: share of denoising samples whose noise level the network is told (the others are blind).
        task_weights: sampling weight per task (None: :data:`TASK_WEIGHTS`).
    """

    SIZE_RULE: ClassVar[SizeRule] = SizeRule(minimum=16, multiple=MULTIPLE)

    tasks: list[str] = field(default_factory=lambda: list(RESTORATION_TASKS))
    size: int = 64
    batch_size: int = 16
    channels: int = 64
    wide_channels: int = 64
    blocks: list[int] = field(default_factory=lambda: [3, 4, 2])
    rank: int = 4
    loss: str = "l1"
    photo_side: int = 384
    level_given: float = 0.5
    task_weights: list[float] | None = None

    def __post_init__(self) -> None:
        check_tasks(self.tasks)
        check_size(self.size, self.SIZE_RULE)
        check_at_least("batch_size", self.batch_size, 1)
        for name in ("channels", "wide_channels"):
            check_at_least(name, getattr(self, name), 1)
        check_at_least("rank", self.rank, 0)
        if len(self.blocks) != 3 or min(self.blocks) < 0:
            raise OptionError(f"{option_value('blocks', self.blocks)}: three counts >= 0 (half, quarter, half)")
        check_choice("loss", self.loss, ("l1", "mse"))
        check_at_least("photo_side", self.photo_side, self.size)
        if not 0 <= self.level_given <= 1:
            raise OptionError(f"{option_value('level_given', self.level_given)}: must be in [0, 1]")
        if self.task_weights is not None and (len(self.task_weights) != len(self.tasks)
                                              or min(self.task_weights) < 0 or sum(self.task_weights) <= 0):
            raise OptionError(f"{option_value('task_weights', self.task_weights)}: one weight >= 0 per task")


def reconstruction_loss(network: nn.Module, batch: Batch, loss: str = "l1") -> dict[str, torch.Tensor]:
    """The loss of ``network`` on a :data:`Batch`: L1 or MSE of G(input, task) to the target."""
    inputs, targets, masks, levels, ids = batch
    output = network(inputs, ids, masks, levels)
    value = F.l1_loss(output, targets) if loss == "l1" else F.mse_loss(output, targets)
    return {"total": value}


def batch_samples(network: nn.Module, batch: Batch) -> torch.Tensor:
    """Inputs, outputs and targets of the first four samples, (12, 3, H, W) in [0, 1]."""
    inputs, targets, masks, levels, ids = (part[:4] for part in batch)
    return torch.cat([inputs, network(inputs, ids, masks, levels).clamp(0, 1), targets])


class ReconstructionTraining(TrainableMethod):
    """What conditional training and adaptation share: the one network ``G`` (a
    :class:`~stylefuse.nn.conditional.ConditionalNet`) fitted to :data:`Batch` targets by ``recipe.loss``."""

    method_name = "conditional"
    network_name = "conditional_net"
    default_betas = (0.9, 0.999)

    def generator_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        return reconstruction_loss(self.generators["G"], batch, self.recipe.loss)

    def validation_metric(self, batch: Batch, generator: nn.Module) -> float:
        """L1 distance of G(input, task) to the target."""
        return reconstruction_loss(generator, batch, "l1")["total"].item()

    def samples(self, batch: Batch, generator: nn.Module) -> torch.Tensor:
        return batch_samples(generator, batch)

    def export(self, trainer, folder, extra=None):
        return super().export(trainer, folder, {"value_range": "[0, 1]", "tasks": list(self.generators["G"].tasks),
                                                **(extra or {})})


@TRAINABLE.register("conditional")
class Conditional(ReconstructionTraining):
    """Train one generator for several restoration tasks and procedural styles, one adapter per task."""

    recipe_class = ConditionalRecipe
    data_folders = ("data",)
    default_lr = 1e-3

    def __init__(self, recipe: ConditionalRecipe | None = None) -> None:
        self.recipe = recipe = recipe or ConditionalRecipe()
        self.network_config = dict(tasks=list(recipe.tasks), channels=recipe.channels,
                                   wide_channels=recipe.wide_channels, blocks=list(recipe.blocks), rank=recipe.rank)
        self.generators = nn.ModuleDict({"G": ConditionalNet(**self.network_config)})

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Batch]:
        for task in self.recipe.tasks:
            if task in STYLE_TASKS:
                style_filter(task)  # a missing filter fails now, not at the first batch that draws it
        photos = ImageFolder(single_folder(folders, "data"), max_side=self.recipe.photo_side, report=report)
        return TaskCrops(photos, self.recipe.tasks, self.recipe.size, self.recipe.batch_size, seed,
                         self.recipe.task_weights, self.recipe.level_given)



def check_task(task: str, network: ConditionalNet, model: Any) -> None:
    """Refuse, on one line, a task no model knows or that this ``network`` (of folder ``model``) was not
    trained for."""
    if task in network.tasks:
        return
    if task not in KNOWN_TASKS:
        raise OptionError(f"unknown task {task!r}; {model} knows {', '.join(network.tasks)}")
    raise OptionError(f"{model} was not trained for task {task!r} (its tasks: {', '.join(network.tasks)}); "
                      f"adapt it with `stylefuse adapt --base {model} --task {task} ...`")


@METHODS.register("conditional")
class ConditionalStylizer(Stylizer):
    """Run one task of a conditional model folder: restoration or a procedural style (``--task``).

    Args:
        model: a folder written by ``stylefuse train conditional`` or ``stylefuse adapt``.
        task: one of the model's tasks (None: its first).
        level: the noise σ in 8-bit units for denoising (None: estimated by the network).
        phases: average the network over 1 or 4 placements of its 2x2 pixel grid (4: four times slower;
            None: :data:`DEFAULT_PHASES` of the task, else 1).
        tile: images larger than this go through overlapping tiles, blended.
        device: where to run it.
    """

    style_input = NO_STYLE

    def __init__(self, model: str | Path, task: str | None = None, level: float | None = None, tile: int = 512,
                 device: str = "cpu", phases: int | None = None) -> None:
        if tile < 2 * RECEPTIVE_MARGIN:
            raise OptionError(f"tile must be at least {2 * RECEPTIVE_MARGIN} pixels, got {tile}")
        if level is not None and not 0 < level <= 255:
            raise OptionError(f"level {level:g}: the noise σ is in 8-bit units, in (0, 255]")
        self.network, self.document = load_model(model)
        if not isinstance(self.network, ConditionalNet):
            raise OptionError(f"{model} holds a {self.document['network']}, not a conditional model")
        self.task = task if task is not None else self.network.tasks[0]
        check_task(self.task, self.network, model)
        self.device = torch.device(device)
        self.network.to(self.device)
        self.level, self.tile = level, tile
        self.phases = DEFAULT_PHASES.get(self.task, 1) if phases is None else phases
        if self.phases not in PHASES:
            raise OptionError(f"phases {phases}: choose {' or '.join(map(str, PHASES))}")

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> ConditionalStylizer:
        return cls(model=folder, **options)

    @torch.no_grad()
    def run(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the task to ``image`` (3, H, W) in [0, 1]; ``mask`` (1, H, W), 1 = missing (inpainting).

        Returns:
            (3, H, W) in [0, 1].
        """
        ids = torch.tensor([self.network.tasks.index(self.task)], device=self.device)
        planes = image[None].to(self.device)
        if mask is not None:
            planes = torch.cat([planes * (1 - mask[None].to(planes)), mask[None].to(planes)], 1)
        level = self.level

        def apply(tile: torch.Tensor) -> torch.Tensor:
            return self.network(tile[:, :3], ids, tile[:, 3:] if tile.shape[1] > 3 else None, level, self.phases)

        overlap = min(64, self.tile // 4)
        out = ops.apply_tiled(apply, planes, tile=self.tile, overlap=overlap, multiple=MULTIPLE,
                              margin=RECEPTIVE_MARGIN)
        return out[0].clamp(0, 1).cpu()

    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Apply the task to ``content`` (3, H, W); ``styles`` must be empty (the task names the style)."""
        if styles:
            raise OptionError("a conditional model takes no style images; choose its task with --task")
        if self.task == "inpaint":
            raise OptionError("inpainting needs a mask: use `stylefuse restore IMG --task inpaint --mask M`")
        return self.run(content)
