"""The trainable-method base: recipes built from typed options, folder options, the validator, and
fit_and_export (train, reload the best validated weights, write the model folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from stylefuse.errors import OptionError
from stylefuse.hub import read_config
from stylefuse.methods._trainable import TrainableMethod, build_recipe, fit_and_export, single_folder
from stylefuse.train.loop import TrainOptions


@dataclass
class _Recipe:
    size: int = 32
    batch_size: int = 1
    lambda_cycle: float = 10.0
    spectral_norm: bool = False
    diff_augment: str = ""

    def __post_init__(self) -> None:
        if self.size < 16:
            raise ValueError(f"--size {self.size}: too small\nsecond line")


def test_build_recipe_types_set_assignments_by_the_recipe_fields() -> None:
    recipe = build_recipe(_Recipe, {"size": 64}, ["lambda-cycle=2.5", "spectral_norm=true", "diff_augment=color"])
    assert recipe == _Recipe(size=64, lambda_cycle=2.5, spectral_norm=True, diff_augment="color")
    assert isinstance(recipe.lambda_cycle, float) and recipe.spectral_norm is True


@pytest.mark.parametrize("values, assignments, message", [
    ({"levels": 3}, [], "^this method does not take --levels$"),
    ({}, ["nonsense=1"], "--set takes KEY=VALUE with KEY one of batch_size, diff_augment, lambda_cycle, size"),
    ({}, ["size"], "--set takes KEY=VALUE .*got 'size'"),
    ({}, ["size=abc"], "size"),
    ({"size": 8}, [], r"^--size 8: too small$"),  # the recipe's own check, first line only
])
def test_build_recipe_errors_are_one_line(values, assignments, message) -> None:
    with pytest.raises(OptionError, match=message) as caught:
        build_recipe(_Recipe, values, assignments)
    assert "\n" not in str(caught.value)


def test_single_folder() -> None:
    assert single_folder({"data": "photos"}, "data") == Path("photos")
    assert single_folder({"data": [Path("photos")]}, "data") == Path("photos")
    with pytest.raises(OptionError, match="--data takes one folder here, got 2 paths"):
        single_folder({"data": ["a", "b"]}, "data")
    with pytest.raises(OptionError, match="^--style is required$"):
        single_folder({}, "style")


class _Line(TrainableMethod):
    """Fit the one weight w of y = w x towards 2 from 0; validation prefers w = 0.5, passed early on."""

    method_name = "line"
    network_name = "line"
    ema_generator = None

    def __init__(self) -> None:
        self.recipe = _Recipe()
        self.generators = nn.ModuleDict({"G": nn.Linear(1, 1, bias=False)})
        nn.init.zeros_(self.generators["G"].weight)

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        loss = (self.generators["G"].weight - 2).square().sum()
        return {"total": loss}

    def validation_metric(self, batch, generator: nn.Module) -> float:
        return abs(generator.weight.item() - 0.5)

    def samples(self, batch, generator) -> torch.Tensor:
        return torch.zeros(1, 3, 4, 4)


def _options(**changes) -> TrainOptions:
    settings = dict(steps=30, lr=0.1, betas=(0.9, 0.999), decay_from=1.0, ema_decay=None, checkpoint_every=0,
                    sample_every=0, log_every=0, progress=False)
    return TrainOptions(**{**settings, **changes})


def _exported_weight(folder: Path) -> float:
    (tensor,) = load_file(str(folder / "model.safetensors")).values()
    return tensor.float().item()


def test_fit_and_export_reloads_the_best_validated_weights(tmp_path: Path) -> None:
    task = _Line()
    summary = fit_and_export(task, lambda step: [torch.zeros(1)], _options(validate_every=1), tmp_path / "best",
                             validate=task.validator(lambda step: None, count=1), extra={"note": "kept"})
    assert summary["state"] == "done" and summary["steps"] == 30
    assert abs(_exported_weight(tmp_path / "best") - 0.5) < 0.1  # the best validation, not the last weights
    config = read_config(tmp_path / "best")
    assert config["method"] == "line" and config["note"] == "kept" and config["steps"] == 30
    assert config["value_range"] == "[-1, 1]" and config["train_size"] == 32 and config["recipe"]["method"] == "line"


def test_without_validation_the_last_weights_are_exported(tmp_path: Path) -> None:
    task = _Line()
    fit_and_export(task, lambda step: [torch.zeros(1)], _options(), tmp_path / "last")
    assert _exported_weight(tmp_path / "last") == pytest.approx(task.generators["G"].weight.item(), abs=1e-2)
    assert _exported_weight(tmp_path / "last") > 1.0


def test_early_stopping_is_reported_and_exports_the_best(tmp_path: Path) -> None:
    task = _Line()
    summary = fit_and_export(task, lambda step: [torch.zeros(1)], _options(validate_every=1, patience=3),
                             tmp_path / "early", validate=task.validator(lambda step: None, count=1))
    assert summary["state"] == "stopped early" and summary["steps"] < 30
    assert abs(_exported_weight(tmp_path / "early") - 0.5) < 0.1


def test_the_validator_uses_fixed_batches_training_never_draws_and_keeps_the_mode() -> None:
    drawn: list[int] = []

    def batches(step: int):
        drawn.append(step)
        return step

    class Counting(_Line):
        def validation_metric(self, batch, generator) -> float:
            assert not generator.training
            return float(batch)

    validate = Counting().validator(batches, count=3)
    assert drawn == [-1, -2, -3]
    generator = nn.Linear(1, 1).train()
    assert validate(generator) == pytest.approx(-2.0) and generator.training
    with pytest.raises(OptionError, match="line has no validation metric; train without --validate-every"):
        TrainableMethod.validation_metric(_Line(), None, generator)
