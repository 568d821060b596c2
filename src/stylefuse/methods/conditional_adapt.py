"""Learn a new task for a conditional model from a few image pairs by training only a new adapter.

The trunk of the pretrained model is frozen; the new task gets one :class:`~stylefuse.nn.conditional.TaskAdapter`
(FiLM tables and low-rank 1x1 residual adapters, Perez et al. 2018, Rebuffi et al. 2017), started as a copy
of an existing task's (or their mean), and that is all that trains: about 1 % of the parameters at the base's
rank, more with a larger ``rank`` for a task far from the base's. The result is a model folder with every old
task and the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, PairedCrops
from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.methods._trainable import single_folder
from stylefuse.methods.conditional import Batch, ReconstructionTraining
from stylefuse.nn.conditional import MULTIPLE, ConditionalNet
from stylefuse.train.recipes import SizeRule, check_at_least, check_choice, check_size, option_value


@dataclass
class AdaptRecipe:
    """Options of adaptation.

    Args:
        base: the conditional model folder to adapt.
        task: the new task's name (not one of the base's).
        like: start the new adapter as a copy of this task's (None: the mean of all the base's adapters).
        rank: rank of the new adapter's 1x1 residual adapters (None: the largest of the adapters it starts from).
        size: crop size in pixels (a multiple of 4).
        batch_size: pairs per step.
        loss: "l1" or "mse".
    """

    SIZE_RULE: ClassVar[SizeRule] = SizeRule(minimum=16, multiple=MULTIPLE)

    base: str = ""
    task: str = "new-task"
    like: str | None = None
    rank: int | None = None
    size: int = 64
    batch_size: int = 4
    loss: str = "l1"

    def __post_init__(self) -> None:
        if not self.task or "," in self.task:
            raise OptionError(f"--task {self.task!r}: give one task name")
        check_size(self.size, self.SIZE_RULE)
        check_at_least("batch_size", self.batch_size, 1)
        if self.rank is not None:
            check_at_least("rank", self.rank, 0)
        check_choice("loss", self.loss, ("l1", "mse"))


def adapted_network(base: str | Path, task: str, like: str | None = None,
                    rank: int | None = None) -> tuple[ConditionalNet, dict[str, Any]]:
    """The base model's network with a new trainable adapter for ``task`` (of ``rank``, see
    :meth:`ConditionalNet.add_task`) and everything else frozen.

    Returns:
        (network, the base folder's config document).
    """
    network, document = load_model(base)
    if not isinstance(network, ConditionalNet):
        raise OptionError(f"{base} holds a {document['network']}, not a conditional model to adapt")
    if task in network.tasks:
        raise OptionError(f"{base} already has task {task!r}; choose a new name with --task")
    if like is not None and like not in network.tasks:
        raise OptionError(f"{option_value('like', like)}: {base} has no such task (its tasks: "
                          f"{', '.join(network.tasks)})")
    network.requires_grad_(False)
    network.add_task(task, like, rank).requires_grad_(True)
    return network.train(), document


def trained_fraction(network: nn.Module) -> tuple[int, int]:
    """(trained parameters, all parameters) of ``network``."""
    trained = sum(p.numel() for p in network.parameters() if p.requires_grad)
    return trained, sum(p.numel() for p in network.parameters())


class PairBatches:
    """Batches of :data:`~stylefuse.methods.conditional.Batch` from aligned crops of paired folders, all of
    task id ``task_id`` (no mask, unknown noise level)."""

    def __init__(self, pairs: Callable[[int], tuple[torch.Tensor, torch.Tensor]], task_id: int) -> None:
        self.pairs, self.task_id = pairs, task_id

    def __call__(self, step: int) -> Batch:
        inputs, targets = self.pairs(step)
        count = inputs.shape[0]
        return (inputs, targets, inputs.new_zeros(count, 1, *inputs.shape[-2:]), inputs.new_zeros(count),
                torch.full((count,), self.task_id, dtype=torch.long))


class Adapt(ReconstructionTraining):
    """A new task for a conditional model, from pairs (``--a`` inputs, ``--b`` targets matched by name)."""

    recipe_class = AdaptRecipe
    data_folders = ("a", "b")
    paired = True
    default_lr = 3e-3

    def __init__(self, recipe: AdaptRecipe) -> None:
        self.recipe = recipe
        network, document = adapted_network(recipe.base, recipe.task, recipe.like, recipe.rank)
        self.network_config = {**document["config"], "tasks": list(network.tasks)}
        if network.task_ranks:
            self.network_config["task_ranks"] = dict(network.task_ranks)
        self.generators = nn.ModuleDict({"G": network})

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Batch]:
        images = [ImageFolder(single_folder(folders, name), report=report) for name in self.data_folders]
        pairs = PairedCrops(images[0], images[1], self.recipe.size, self.recipe.batch_size, seed)
        return PairBatches(pairs, self.generators["G"].tasks.index(self.recipe.task))

    def export(self, trainer, folder, extra=None):
        return super().export(trainer, folder, {"adapted_from": str(self.recipe.base), **(extra or {})})
