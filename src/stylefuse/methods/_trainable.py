"""The base of every trainable method: what the CLI's ``train`` command needs from a method (its
recipe, data, validation metric and export as a model folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, PairedCrops, UnpairedCrops
from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.train.loop import Trainer, TrainingTask


class TrainableMethod(TrainingTask):
    """A trainable method: a task for the loop plus the recipe that built it, its data and how to export it.

    Subclasses set ``network_name`` / ``network_config`` (the inference generator's registry name and
    constructor arguments) and ``method_name``.
    """

    method_name: str = ""
    network_name: str = ""
    network_config: dict[str, Any] = {}
    recipe: Any
    recipe_class: type
    """A dataclass of the method's options (with at least ``size`` and ``batch_size``)."""
    default_lr: float = 2e-4
    default_betas: tuple[float, float] = (0.5, 0.999)
    """Adam settings when the user gives none (GAN defaults of Radford et al. 2016)."""
    data_folders: tuple[str, ...] = ("data",)
    """The folders the method trains on, by CLI option name: ("a", "b"), ("data",), ("data", "style")."""
    paired: bool = False
    """True when the two folders hold pairs matched by file name."""

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """``batches(step)`` over random crops of the method's folders (images are first scaled so that
        their short side is at most twice the crop size, so crops show whole structures). Called once,
        before training starts; methods may also load what their losses need here.

        Args:
            folders: CLI option name -> a folder (or a list of paths, where a method takes several).
        """
        recipe = self.recipe
        images = [ImageFolder(single_folder(folders, name), max_side=2 * recipe.size, report=report)
                  for name in self.data_folders]
        if self.paired:
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
                  "steps": trainer.step, "recipe": trainer.recipe_record(), **(extra or {})}
        return save_model(generator, folder, self.network_name, self.network_config, extra=record)


def single_folder(folders: dict[str, Any], name: str) -> Path:
    """The one folder given for option ``--name`` (a list of exactly one path is accepted)."""
    value = folders.get(name)
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise OptionError(f"--{name} takes one folder here, got {len(value)} paths")
        value = value[0]
    if value is None:
        raise OptionError(f"--{name} is required")
    return Path(value)


def fit_and_export(task: TrainableMethod, batches: Callable[[int], Any], options: Any, out: str | Path,
                   validate: Callable[[nn.Module], float] | None = None, resume: bool = False,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``task`` with the one loop, reload the best validated weights (when validation ran) and
    write the model folder to ``out``.

    Args:
        options: the loop's :class:`stylefuse.train.loop.TrainOptions`.
        validate: ``validate(generator) -> float`` for early stopping (see :meth:`TrainableMethod.validator`).
        resume: continue from ``out``'s checkpoint.
        extra: more to record in the model folder's config.

    Returns:
        The loop's summary plus ``state``: "done", "stopped early", "time budget" or "interrupted".
    """
    trainer = Trainer(task, batches, options, out, validate=validate)
    summary = trainer.fit(resume=resume)
    best = Path(out) / "best_generator.pt"
    if validate is not None and best.is_file():
        trainer.inference_generator().load_state_dict(torch.load(best, weights_only=True))
    if trainer.engine.is_main:  # the other ranks hold the same weights
        task.export(trainer, out, extra)
    trainer.engine.barrier()
    return summary


def build_recipe(recipe_class: type, values: dict[str, Any], assignments: list[str], method: str = "") -> Any:
    """A method's recipe from common options (``values``, by field name) and ``--set KEY=VALUE`` strings,
    typed by the recipe's fields; an option the recipe lacks is a one-line :class:`OptionError`."""
    from stylefuse.methods._base import parse_assignment, recipe_defaults

    known = recipe_defaults(recipe_class)
    foreign = [key.replace("_", "-") for key in values if key not in known]
    if foreign:
        raise OptionError(f"this method does not take --{', --'.join(foreign)}")
    values.update(parse_assignment(text, recipe_class, method or recipe_class.__name__, known) for text in assignments)
    try:
        return recipe_class(**values)
    except (TypeError, ValueError) as exc:
        raise OptionError(str(exc).splitlines()[0]) from None
