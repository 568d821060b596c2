"""Conditional training, adaptation and restoration: exact resume of both runs, the adapter's share of the
parameters, tiled inference equal to a single pass, a tiny denoiser that learns, and the restore command's
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import stylefuse
from stylefuse.data.folders import ImageFolder
from stylefuse.errors import OptionError
from stylefuse.hub import load_model, save_model
from stylefuse.image.io import read_image, write_image
from stylefuse.methods.conditional import Conditional, ConditionalRecipe, ConditionalStylizer, TaskCrops
from stylefuse.methods.conditional_adapt import Adapt, AdaptRecipe, PairBatches, trained_fraction
from stylefuse.nn.conditional import ConditionalNet
from stylefuse.train.loop import Trainer, TrainOptions
from tests.helpers import random_folder, run_cli, wavy_photo

TINY = dict(channels=8, wide_channels=8, blocks=[1, 1, 1], rank=2, size=32, batch_size=4, photo_side=48)


def _trainer(task, batches, out: Path, steps: int, lr: float = 1e-3, checkpoint_every: int = 2) -> Trainer:
    options = TrainOptions(steps=steps, lr=lr, betas=(0.9, 0.999), checkpoint_every=checkpoint_every, sample_every=0,
                           log_every=checkpoint_every, progress=False, decay_from=1.0)
    return Trainer(task, batches, options, out)


def _conditional(tmp_path: Path, out: str, steps: int, tasks=("denoise", "sr2", "inpaint")) -> Trainer:
    torch.manual_seed(0)
    task = Conditional(ConditionalRecipe(tasks=list(tasks), **TINY))
    photos = ImageFolder(random_folder(tmp_path, "photos", 3, 0), max_side=48)
    return _trainer(task, TaskCrops(photos, task.recipe.tasks, 32, 4, seed=0), tmp_path / out, steps)


def _equal_weights(a: Trainer, b: Trainer) -> None:
    for (key, x), y in zip(a.task.generators.state_dict().items(), b.task.generators.state_dict().values()):
        assert torch.equal(x, y), key
    for x, y in zip(a.ema.state_dict().values(), b.ema.state_dict().values()):
        assert torch.equal(x, y)


def test_a_resumed_conditional_run_equals_a_straight_one(tmp_path: Path) -> None:
    straight = _conditional(tmp_path, "straight", 4)
    straight.fit()
    _conditional(tmp_path, "resumed", 2).fit()
    resumed = _conditional(tmp_path, "resumed", 4)
    assert resumed.fit(resume=True)["steps"] == 4
    _equal_weights(straight, resumed)


def _base_model(tmp_path: Path) -> Path:
    trainer = _conditional(tmp_path, "base", 2)
    trainer.fit()
    trainer.task.export(trainer, tmp_path / "base")
    return tmp_path / "base"


def _adaptation(tmp_path: Path, base: Path, out: str, steps: int) -> Trainer:
    torch.manual_seed(0)
    task = Adapt(AdaptRecipe(base=str(base), task="sr3", like="sr2", size=32, batch_size=2))
    a, b = random_folder(tmp_path, "a", 3, 1), random_folder(tmp_path, "b", 3, 2)
    return _trainer(task, task.make_batches({"a": a, "b": b}), tmp_path / out, steps, lr=3e-3)


def test_adaptation_trains_only_the_new_adapter_and_resumes_exactly(tmp_path: Path) -> None:
    base = _base_model(tmp_path)
    straight = _adaptation(tmp_path, base, "straight", 4)
    network = straight.task.generators["G"]
    trunk = {k: v.clone() for k, v in network.state_dict().items() if not k.startswith("adapters.sr3.")}
    trained, total = trained_fraction(network)
    assert trained == sum(p.numel() for p in network.adapters["sr3"].parameters())
    straight.fit()
    for key, value in network.state_dict().items():
        if key in trunk:
            assert torch.equal(value, trunk[key]), key  # the trunk and old adapters stay frozen
    assert not torch.equal(network.adapters["sr3"].gamma[0], network.adapters["sr2"].gamma[0])
    _adaptation(tmp_path, base, "resumed", 2).fit()
    resumed = _adaptation(tmp_path, base, "resumed", 4)
    resumed.fit(resume=True)
    _equal_weights(straight, resumed)
    folder = straight.task.export(straight, tmp_path / "adapted")
    assert json.loads((folder / "config.json").read_text())["config"]["tasks"] == ["denoise", "sr2", "inpaint", "sr3"]
    assert ConditionalStylizer(folder, task="sr3").task == "sr3"


def test_an_adapter_of_a_larger_rank_is_saved_and_reloaded(tmp_path: Path) -> None:
    base = _base_model(tmp_path)
    torch.manual_seed(0)
    task = Adapt(AdaptRecipe(base=str(base), task="sr3", like="sr2", rank=6, size=32, batch_size=2))
    trainer = _trainer(task, task.make_batches({"a": random_folder(tmp_path, "a", 3, 1),
                                                "b": random_folder(tmp_path, "b", 3, 2)}), tmp_path / "run", 2, lr=3e-3)
    trainer.fit()
    folder = task.export(trainer, tmp_path / "adapted")
    assert json.loads((folder / "config.json").read_text())["config"]["task_ranks"] == {"sr3": 6}
    network, _ = load_model(folder)
    assert network.adapters["sr3"].down[0].shape[0] == 6
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(network(image, "sr3"), task.generators["G"].eval()(image, "sr3"),
                                   atol=2e-2, rtol=1e-2)  # fp16 storage
    with pytest.raises(OptionError, match="rank"):
        AdaptRecipe(base=str(base), task="sr3", rank=-1)


def test_the_adapter_is_at_most_five_percent_of_the_default_model(tmp_path: Path) -> None:
    network = ConditionalNet(tasks=["denoise", "sr2", "sr4", "inpaint", "enhance"])
    save_model(network, tmp_path / "base", "conditional_net", dict(tasks=network.tasks),
               extra={"method": "conditional"})
    adapt = Adapt(AdaptRecipe(base=str(tmp_path / "base"), task="sr3"))
    trained, total = trained_fraction(adapt.generators["G"])
    assert 0 < trained / total <= 0.05


@pytest.mark.slow
def test_a_tiny_denoiser_learns(tmp_path: Path) -> None:
    torch.manual_seed(0)
    task = Conditional(ConditionalRecipe(tasks=["denoise"], loss="mse", **TINY))
    write_image(tmp_path / "photos" / "wavy.png", wavy_photo(64, 64))
    batches = TaskCrops(ImageFolder(tmp_path / "photos"), ["denoise"], 32, 4, seed=0)
    fixed = batches(-1)
    before = task.generator_loss(fixed)["total"].item()
    _trainer(task, batches, tmp_path / "run", 80, lr=2e-3, checkpoint_every=0).fit()
    after = task.generator_loss(fixed)["total"].item()
    assert after < 0.85 * before


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A conditional model folder with random (non-identity) weights."""
    torch.manual_seed(0)
    network = ConditionalNet(tasks=["denoise", "inpaint"], channels=8, wide_channels=8, blocks=[1, 1, 1], rank=2)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if name.startswith("tail"):
                parameter.normal_(0, 0.05)
    config = dict(tasks=network.tasks, channels=8, wide_channels=8, blocks=[1, 1, 1], rank=2)
    return save_model(network, tmp_path / "model", "conditional_net", config, extra={"method": "conditional"})


def test_tiles_equal_a_single_pass(model: Path) -> None:
    image = torch.rand(3, 200, 150, generator=torch.Generator().manual_seed(0))
    whole = ConditionalStylizer(model, task="denoise", tile=1024).run(image)
    tiled = ConditionalStylizer(model, task="denoise", tile=128).run(image)
    assert not torch.equal(whole, image)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_restore_command_and_api(model: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    photo = write_image(tmp_path / "photo.png", wavy_photo(40, 52))
    mask = torch.zeros(3, 40, 52)
    mask[:, 10:20, 10:30] = 1
    write_image(tmp_path / "mask.png", mask)
    write_image(tmp_path / "small-mask.png", mask[:, :20])
    out = tmp_path / "out.png"
    code, stdout, err = run_cli(["restore", photo, "--task", "inpaint", "--mask", tmp_path / "mask.png",
                                 "--model", model, "-o", out], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(out).size == (52, 40)
    result = stylefuse.restore(photo, "denoise", model=model, level=25)
    assert result.size == (52, 40)
    for args, message in [(["--task", "inpaint", "--mask", tmp_path / "small-mask.png"], "the mask is 52x20"),
                          (["--task", "inpaint"], "inpainting needs a mask"),
                          (["--task", "deblur"], "unknown task 'deblur'"),
                          (["--task", "sr4"], "was not trained for task 'sr4'")]:
        code, _, err = run_cli(["restore", photo, *args, "--model", model, "-o", out], capsys, monkeypatch)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_adapt_command_reports_the_trained_fraction(model: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    a, b = random_folder(tmp_path, "a", 2, 1), random_folder(tmp_path, "b", 2, 2)
    out = tmp_path / "adapted"
    args = ["adapt", "--base", model, "--task", "tint", "--a", a, "--b", b, "--out", out, "--size", "32",
            "--steps", "2", "-q"]
    code, stdout, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert "%" in stdout and "adapter of tint" in stdout
    code, stdout, err = run_cli([*args[:-2], "3", "-q", "--resume"], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["steps"] == 3
    code, _, err = run_cli(["stylize", a / "img0.png", "--model", out, "--task", "tint", "-o", tmp_path / "t.png"],
                           capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["adapt", "--base", model, "--task", "denoise", "--a", a, "--b", b, "--out",
                            tmp_path / "x", "-q"], capsys, monkeypatch)
    assert code == 2 and "already has task 'denoise'" in err
    code, _, err = run_cli([*args[:-2], "2", "--rank", "-1", "--overwrite"], capsys, monkeypatch)
    assert code == 2 and "--rank" in err


def test_pair_batches_are_of_the_new_task() -> None:
    batch = PairBatches(lambda step: (torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)), 3)(0)
    assert batch[4].tolist() == [3, 3] and batch[2].shape == (2, 1, 8, 8)


def test_denoising_averages_four_phases_unless_told(model: Path) -> None:
    image = torch.rand(3, 40, 44, generator=torch.Generator().manual_seed(3))
    averaged, once = (ConditionalStylizer(model, task="denoise", phases=phases) for phases in (None, 1))
    assert averaged.phases == 4 and once.phases == 1
    assert ConditionalStylizer(model, task="inpaint").phases == 1
    assert not torch.allclose(averaged.run(image), once.run(image))
    with pytest.raises(OptionError, match="phases 3"):
        ConditionalStylizer(model, task="denoise", phases=3)
