"""The training loop: exact resumption, NaN guard and rollback, divergence, early stopping, Ctrl-C, L-BFGS, runs
in a folder that holds one, the time budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.errors import OptionError, StylefuseError
from stylefuse.hub import read_config
from stylefuse.methods.cyclegan import CycleGAN, CycleGANRecipe
from stylefuse.train.loop import Trainer, TrainingDivergedError, TrainingTask, TrainOptions
from tests.helpers import cyclegan_trainer, random_folder

TINY_CYCLE = CycleGANRecipe(size=32, blocks=1, base=4, pool=3, diff_augment="color,translation,cutout", r1=0.1)


def _cyclegan_trainer(tmp_path: Path, out: str, steps: int) -> Trainer:
    a = ImageFolder(random_folder(tmp_path, "a", 3, 1))
    b = ImageFolder(random_folder(tmp_path, "b", 3, 2))
    options = TrainOptions(steps=steps, checkpoint_every=2, sample_every=0, log_every=1, progress=False)
    torch.manual_seed(options.seed)  # the initial weights, as `stylefuse train` does before building
    return Trainer(CycleGAN(TINY_CYCLE), UnpairedCrops([a, b], 32, batch_size=2), options, tmp_path / out)


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    state = {f"g.{k}": v for k, v in trainer.task.generators.state_dict().items()}
    state.update({f"d.{k}": v for k, v in trainer.task.discriminators.state_dict().items()})
    state.update({f"ema.{k}": v for k, v in trainer.ema.state_dict().items()})
    return state


def test_resume_gives_the_same_weights_as_a_straight_run(tmp_path: Path) -> None:
    straight = _cyclegan_trainer(tmp_path, "straight", 4)
    straight.fit()
    first = _cyclegan_trainer(tmp_path, "resumed", 2)
    first.fit()
    second = _cyclegan_trainer(tmp_path, "resumed", 4)
    summary = second.fit(resume=True)
    assert summary["steps"] == 4
    expected, got = _weights(straight), _weights(second)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key


def test_non_finite_loss_skips_the_step(tmp_path: Path) -> None:
    trainer = _cyclegan_trainer(tmp_path, "nan", 2)
    before = {k: v.clone() for k, v in trainer.task.discriminators.state_dict().items()}
    original = trainer.task.discriminator_loss
    trainer.task.discriminator_loss = lambda batch: {**original(batch), "total": torch.tensor(float("nan"))}
    trainer.train_step(trainer.batches(0))
    assert trainer.skipped_steps == 1
    for key, value in trainer.task.discriminators.state_dict().items():
        assert torch.equal(value, before[key])
    assert "skipped: non-finite D loss" in (tmp_path / "nan" / "metrics.jsonl").read_text()


def test_interrupt_saves_a_checkpoint(tmp_path: Path) -> None:
    trainer = _cyclegan_trainer(tmp_path, "interrupt", 10)
    real_step = trainer.train_step
    calls = {"n": 0}

    def step_then_interrupt(batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_step(batch)

    trainer.train_step = step_then_interrupt
    summary = trainer.fit()
    assert summary["interrupted"] and summary["steps"] == 1
    resumed = _cyclegan_trainer(tmp_path, "interrupt", 3)
    assert resumed.fit(resume=True)["steps"] == 3


def test_early_stopping(tmp_path: Path) -> None:
    a = ImageFolder(random_folder(tmp_path, "a", 2, 1))
    options = TrainOptions(steps=50, checkpoint_every=0, sample_every=0, validate_every=1, patience=2,
                           progress=False)
    scores = iter([3.0, 2.0, 2.5, 2.6, 1.0])
    trainer = Trainer(CycleGAN(TINY_CYCLE), UnpairedCrops([a, a], 32), options, tmp_path / "early",
                      validate=lambda generator: next(scores))
    summary = trainer.fit()
    assert summary["stopped_early"] and summary["steps"] == 4 and summary["best_metric"] == 2.0
    assert (tmp_path / "early" / "best_generator.pt").is_file()


def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path) -> None:

    with pytest.raises(StylefuseError, match="start without --resume"):
        _cyclegan_trainer(tmp_path, "none", 2).fit(resume=True)


class _LeastSquares(TrainingTask):
    """Fit y = W x on a fixed batch: an ill-conditioned quadratic that L-BFGS solves in a few steps."""

    ema_generator = None

    def __init__(self) -> None:
        self.generators = nn.ModuleDict({"G": nn.Linear(6, 1, bias=False)})
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(32, 6, generator=generator) * torch.tensor([1.0, 3.0, 0.3, 1.0, 2.0, 0.5])
        self.y = self.x @ torch.arange(1.0, 7.0)[:, None]

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        return {"total": (self.generators["G"](self.x) - self.y).pow(2).mean()}

    def samples(self, batch, generator) -> torch.Tensor:
        return torch.zeros(1, 3, 4, 4)


def _least_squares_trainer(tmp_path: Path, optimizer: str, steps: int, lr: float, out: str = "ls") -> Trainer:
    torch.manual_seed(0)
    options = TrainOptions(steps=steps, lr=lr, optimizer=optimizer, decay_from=1.0, checkpoint_every=5,
                           sample_every=0, progress=False)
    return Trainer(_LeastSquares(), lambda step: None, options, tmp_path / out)


def test_lbfgs_solves_a_fixed_batch_problem_that_adam_does_not_in_as_many_steps(tmp_path: Path) -> None:
    lbfgs = _least_squares_trainer(tmp_path, "lbfgs", 15, 1.0, "lbfgs")
    adam = _least_squares_trainer(tmp_path, "adam", 15, 1.0, "adam")
    start = lbfgs.task.generator_loss(None)["total"].item()  # 179
    lbfgs.fit()
    adam.fit()
    loss = {name: t.task.generator_loss(None)["total"].item() for name, t in (("lbfgs", lbfgs), ("adam", adam))}
    assert loss["lbfgs"] < 1e-6 * start and loss["adam"] > 100 * loss["lbfgs"]  # measured 3e-5 vs 0.025
    assert torch.allclose(lbfgs.task.generators["G"].weight, torch.arange(1.0, 7.0)[None], atol=0.05)


def test_lbfgs_resumes_exactly_and_skips_non_finite_losses(tmp_path: Path) -> None:
    straight = _least_squares_trainer(tmp_path, "lbfgs", 8, 0.5, "straight")
    straight.fit()
    _least_squares_trainer(tmp_path, "lbfgs", 5, 0.5, "resumed").fit()
    resumed = _least_squares_trainer(tmp_path, "lbfgs", 8, 0.5, "resumed")
    resumed.fit(resume=True)
    assert torch.equal(straight.task.generators["G"].weight, resumed.task.generators["G"].weight)
    snapshot = resumed._snapshot["state"]["generators"]["G.weight"].clone()  # the state it resumed from
    resumed.task.generator_loss = lambda batch: {"total": torch.tensor(float("nan"))}
    resumed.train_step(None)
    assert resumed.skipped_steps == 1 and torch.equal(resumed.task.generators["G"].weight, snapshot)
    assert resumed.lr_scale == 0.5


def test_resuming_with_the_other_optimizer_is_a_clear_error(tmp_path: Path) -> None:

    _least_squares_trainer(tmp_path, "lbfgs", 5, 0.5, "switch").fit()
    with pytest.raises(StylefuseError, match="trained with optimizer=lbfgs, this run asks for optimizer=adam"):
        _least_squares_trainer(tmp_path, "adam", 8, 0.5, "switch").fit(resume=True)


def test_resuming_a_checkpoint_of_other_trained_parameters_is_a_clear_error(tmp_path: Path) -> None:

    _least_squares_trainer(tmp_path, "adam", 5, 0.5, "grown").fit()
    grown = _least_squares_trainer(tmp_path, "adam", 8, 0.5, "grown")
    grown.task.generators["G"].extra = torch.nn.Parameter(torch.zeros(3))  # as a newer network version would have
    with pytest.raises(StylefuseError, match="trained another set of parameters"):
        grown.fit(resume=True)


def test_lbfgs_refuses_discriminators_and_unknown_optimizers_are_errors(tmp_path: Path) -> None:
    from stylefuse.errors import OptionError

    with pytest.raises(OptionError, match="cannot train against a discriminator"):
        Trainer(CycleGAN(TINY_CYCLE), lambda step: None, TrainOptions(optimizer="lbfgs"), tmp_path / "d")
    with pytest.raises(OptionError, match="unknown optimizer 'sgd'"):
        Trainer(_LeastSquares(), lambda step: None, TrainOptions(optimizer="sgd"), tmp_path / "s")


def test_the_last_step_is_always_validated(tmp_path: Path) -> None:
    seen = []
    options = TrainOptions(steps=5, lr=1.0, optimizer="lbfgs", checkpoint_every=0, sample_every=0, validate_every=3,
                           progress=False)
    trainer = Trainer(_LeastSquares(), lambda step: None, options, tmp_path / "v",
                      validate=lambda generator: seen.append(trainer.step) or float(len(seen)))
    trainer.fit()
    assert seen == [3, 5]


def test_training_into_a_folder_that_holds_a_run_needs_resume_or_overwrite(tmp_path: Path) -> None:
    cyclegan_trainer(tmp_path).fit()
    run = tmp_path / "run"
    (run / "best_generator.pt").write_bytes(b"stale")
    with pytest.raises(OptionError, match="already holds a training run .* --resume, or start over with --overwrite"):
        cyclegan_trainer(tmp_path).fit()
    summary = cyclegan_trainer(tmp_path, overwrite=True).fit()
    assert summary["steps"] == 2
    assert not (run / "best_generator.pt").exists()  # a stale best of the old run would be exported
    steps = [json.loads(line).get("step") for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # the old run's log was cleared


def test_the_summary_says_when_the_time_budget_ended_the_run(tmp_path: Path) -> None:
    summary = cyclegan_trainer(tmp_path, steps=50, max_seconds=1e-6).fit()
    assert summary["state"] == "time budget" and summary["budget_ended"] and summary["steps"] == 1


def test_the_recipe_can_go_into_the_model_folder(tmp_path: Path) -> None:
    trainer = cyclegan_trainer(tmp_path)
    trainer.fit()
    trainer.task.export(trainer, tmp_path / "run", extra={"recipe": trainer.recipe_record()})
    assert read_config(tmp_path / "run")["recipe"]["size"] == 32


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


def _logged_trainer(tmp_path: Path, steps: int, out: str) -> Trainer:
    torch.manual_seed(0)
    options = TrainOptions(steps=steps, lr=0.05, decay_from=1.0, checkpoint_every=4, log_every=1, sample_every=0,
                           progress=False)
    return Trainer(_LeastSquares(), lambda step: None, options, tmp_path / out)


def test_metrics_after_a_resume_hold_every_step_once_as_a_straight_run(tmp_path: Path) -> None:
    import shutil

    straight = _logged_trainer(tmp_path, 10, "straight")
    straight.fit()
    run = tmp_path / "run"
    _logged_trainer(tmp_path, 4, "run").fit()
    shutil.copy(run / "checkpoint.pt", tmp_path / "step4.pt")
    _logged_trainer(tmp_path, 7, "run").fit(resume=True)  # logs steps 5..7 ...
    shutil.copy(tmp_path / "step4.pt", run / "checkpoint.pt")  # ... and is killed before checkpointing them
    with open(run / "metrics.jsonl", "a") as log:
        log.write('{"step": 8, "G/tot')  # a line cut off by the kill
    _logged_trainer(tmp_path, 10, "run").fit(resume=True)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 11))
    assert records == [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]


def test_trim_metrics_keeps_the_checkpointed_step_and_drops_replayed_events(tmp_path: Path) -> None:
    from stylefuse.train.loop import trim_metrics

    lines = [{"step": 3, "loss": 1.0}, {"step": 3, "event": "skipped: non-finite G loss"}, {"step": 4, "loss": 0.5},
             {"step": 4, "validation": 0.2}, {"step": 4, "event": "skipped: non-finite D loss"}, {"step": 5, "loss": 0}]
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert trim_metrics(path, 4) == 2
    assert [json.loads(line) for line in path.read_text().splitlines()] == lines[:4]
    assert trim_metrics(path, 4) == 0 and trim_metrics(tmp_path / "none.jsonl", 4) == 0
