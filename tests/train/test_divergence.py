"""A training run never dies silently: constant crops stay finite, non-finite steps roll back, a diverging
run stops with one line, and non-finite weights are never written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.hub import ModelFolderError, save_model
from stylefuse.image.io import write_image
from stylefuse.methods.cyclegan import CycleGAN, CycleGANRecipe
from stylefuse.nn.generators import ResnetGenerator
from stylefuse.nn.layers import InstanceNorm2d
from stylefuse.train.loop import Trainer, TrainingDivergedError, TrainingTask, TrainOptions


def _textured_and_white(root: Path, count: int = 4) -> tuple[Path, Path]:
    """Folder ``a`` of smooth random textures, folder ``b`` of line drawings and plain white images."""
    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        coarse = torch.rand(1, 3, 6, 6, generator=generator)
        write_image(root / "a" / f"{index}.png", nn.functional.interpolate(coarse, size=(48, 48), mode="bilinear")[0])
        sketch = torch.ones(3, 48, 48)
        if index % 2:
            sketch[:, 10 + index, :] = 0
            sketch[:, :, 20 - index] = 0
        write_image(root / "b" / f"{index}.png", sketch)
    return root / "a", root / "b"


def test_instance_norm_of_a_constant_map_is_zero_with_a_finite_gradient() -> None:
    torch.manual_seed(0)
    generator = ResnetGenerator(base=4, blocks=6)  # 17 norm layers: plain instance norm overflows float32 here
    generator(torch.ones(1, 3, 32, 32)).square().mean().backward()
    largest = max(p.grad.abs().max() for p in generator.parameters())
    assert torch.isfinite(largest) and largest < 1e3
    norm, varying = InstanceNorm2d(3, affine=True), torch.randn(2, 3, 8, 8)
    nn.init.normal_(norm.weight)
    expected = nn.functional.instance_norm(varying, weight=norm.weight, bias=norm.bias)
    assert torch.allclose(norm(varying), expected, atol=1e-5)
    constant = torch.full((1, 3, 8, 8), 0.37)
    assert torch.equal(norm(constant), norm.bias.detach()[None, :, None, None].expand(1, 3, 8, 8))


def test_cyclegan_on_data_with_constant_crops_stays_finite_for_100_steps(tmp_path: Path) -> None:
    a, b = _textured_and_white(tmp_path)
    torch.manual_seed(0)
    # 3 residual blocks (11 norm layers) are enough for plain instance norm to go non-finite on these data
    task = CycleGAN(CycleGANRecipe(size=32, blocks=3, base=4, pool=4))
    options = TrainOptions(steps=100, checkpoint_every=0, sample_every=0, log_every=0, progress=False)
    trainer = Trainer(task, UnpairedCrops([ImageFolder(a), ImageFolder(b)], 32), options,
                      tmp_path / "run")
    summary = trainer.fit()
    assert summary["steps"] == 100 and summary["skipped_steps"] == 0 and summary["state"] == "done"
    for network in (task.generators, task.discriminators, trainer.ema):
        assert all(torch.isfinite(p).all() for p in network.parameters())


class _Line(TrainingTask):
    """Fit y = 2 x with one weight; ``bad_steps`` are the steps whose loss (or gradient) is not finite."""

    ema_generator = "G"

    def __init__(self, bad_steps: set[int], bad_gradient: bool = False) -> None:
        self.generators = nn.ModuleDict({"G": nn.Linear(1, 1, bias=False)})
        self.bad_steps, self.bad_gradient = bad_steps, bad_gradient

    def generator_loss(self, step: int) -> dict[str, torch.Tensor]:
        weight = self.generators["G"].weight
        loss = (weight - 2).square().sum()
        if step in self.bad_steps:
            # sqrt(0) has an infinite derivative: a finite loss with a non-finite gradient
            loss = loss + ((weight - weight.detach()).sum().sqrt() if self.bad_gradient else torch.nan)
        return {"total": loss}

    def samples(self, batch, generator) -> torch.Tensor:
        return torch.zeros(1, 3, 4, 4)


def _line_trainer(tmp_path: Path, task: _Line, steps: int = 20) -> Trainer:
    options = TrainOptions(steps=steps, lr=0.05, betas=(0.9, 0.999), decay_from=1.0, checkpoint_every=5,
                           sample_every=0, log_every=1, progress=False)
    return Trainer(task, lambda step: step, options, tmp_path / "run")


@pytest.mark.parametrize("bad_gradient", [False, True])
def test_a_non_finite_step_restores_the_last_finite_state_and_lowers_the_learning_rate(tmp_path: Path,
                                                                                       bad_gradient: bool) -> None:
    trainer = _line_trainer(tmp_path, _Line({7, 8}, bad_gradient))
    summary = trainer.fit()
    assert summary["state"] == "done" and summary["skipped_steps"] == 2 and trainer.lr_scale == 0.25
    events = [r["event"] for r in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines())
              if "event" in r]
    what = "G gradient" if bad_gradient else "G loss"
    assert events == [f"skipped: non-finite {what}", "restored the state of step 0; learning rate x0.5",
                      f"skipped: non-finite {what}", "restored the state of step 0; learning rate x0.25"]
    assert abs(trainer.task.generators["G"].weight.item() - 2) < abs(trainer._snapshot["state"]["generators"]
                                                                     ["G.weight"].item() - 2) + 1
    resumed = _line_trainer(tmp_path, _Line(set()), steps=25)
    resumed.fit(resume=True)
    assert resumed.lr_scale == 0.25  # the lowered learning rate is part of the checkpoint


def test_a_diverging_run_stops_with_one_line_and_writes_no_non_finite_weights(tmp_path: Path) -> None:
    trainer = _line_trainer(tmp_path, _Line(set(range(6, 100))))
    with pytest.raises(TrainingDivergedError) as caught:
        trainer.fit()
    message = str(caught.value)
    assert "\n" not in message and "training diverged at step 10" in message and "--lr" in message
    assert trainer.nonfinite_in_a_row == 5 and trainer.step == 10
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)  # of step 10, rolled back
    assert torch.isfinite(checkpoint["generators"]["G.weight"]).all() and checkpoint["lr_scale"] == 0.5**4
    assert not (tmp_path / "run" / "model.safetensors").exists()
    assert trainer.task.generators["G"].weight.isfinite().all()


def test_save_model_refuses_non_finite_weights_and_float16_overflow(tmp_path: Path) -> None:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight[0, 0] = float("nan")
    with pytest.raises(ModelFolderError, match="not finite .the training diverged"):
        save_model(layer, tmp_path / "nan", "x", {})
    with torch.no_grad():
        layer.weight[0, 0] = 1e6
    with pytest.raises(ModelFolderError, match="float16"):
        save_model(layer, tmp_path / "big", "x", {})
    assert not (tmp_path / "nan").exists() and not (tmp_path / "big").exists()
    save_model(layer, tmp_path / "full", "x", {}, half=False)
    assert (tmp_path / "full" / "model.safetensors").is_file()
