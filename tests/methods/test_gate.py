"""The gate over frozen stylizers: only the gate learns, training resumes exactly, it learns to route each
region to the member that fits it, and a gate folder stylizes like its members mixed by its map."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylefuse import hub
from stylefuse.errors import StylefuseError
from stylefuse.hub import read_config
from stylefuse.methods.gate import GateRecipe, GateTraining, gate_picture, member_outputs
from stylefuse.train.loop import Trainer, TrainOptions
from tests.helpers import random_folder, run_cli, save_style_model, wavy_photo

MEMBERS = ["builtin:starry-night", "builtin:great-wave"]


def _trainer(tmp_path: Path, name: str, steps: int) -> Trainer:
    torch.manual_seed(0)
    task = GateTraining(GateRecipe(size=32, batch_size=2, channels=4, layers=2))
    batches = task.make_batches({"models": MEMBERS, "data": random_folder(tmp_path, "photos", 3, seed=0)})
    options = TrainOptions(steps=steps, lr=1e-2, checkpoint_every=0, sample_every=0, progress=False)
    return Trainer(task, batches, options, tmp_path / name)


def test_the_gradient_reaches_the_gate_only(tmp_path) -> None:
    trainer = _trainer(tmp_path, "run", 1)
    task = trainer.task
    photos, outputs = trainer.batches(0)
    assert outputs.shape == (2, 2, 3, 32, 32) and not outputs.requires_grad
    torch.nn.init.normal_(task.generators["G"].head.weight)  # past the zero start, every layer gets a gradient
    task.generator_loss((photos, outputs))["total"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in task.generators["G"].parameters())
    frozen = [p for member in task.members for p in member.stylizer.runner.network.parameters()]
    frozen += list(task.encoder.parameters())
    assert frozen and all(p.grad is None for p in frozen)


def test_resume_gives_the_same_gate_as_a_straight_run(tmp_path) -> None:
    straight = _trainer(tmp_path, "straight", 4)
    straight.fit()
    _trainer(tmp_path, "resumed", 2).fit()
    resumed = _trainer(tmp_path, "resumed", 4)
    assert resumed.fit(resume=True)["steps"] == 4
    for key, value in straight.task.generators.state_dict().items():
        assert torch.equal(value, resumed.task.generators.state_dict()[key]), key


@pytest.mark.slow
def test_the_gate_routes_each_half_to_the_member_that_fits_it(tmp_path) -> None:
    """Member A reproduces the photo on the left and is noise on the right, member B the other way round:
    a few steps take the gate's objective below the uniform blend's, with A chosen on the left."""
    task = GateTraining(GateRecipe(size=32, batch_size=2, channels=8, layers=3, style_weight=0.0))
    photos = torch.stack([wavy_photo(32, 32), wavy_photo(32, 32).flip(-1)])
    noise = torch.rand(photos.shape, generator=torch.Generator().manual_seed(0))
    left = torch.arange(32) < 16
    outputs = torch.stack([torch.where(left, photos, noise), torch.where(left, noise, photos)], 1)
    torch.manual_seed(0)
    options = TrainOptions(steps=25, lr=2e-2, ema_decay=None, checkpoint_every=0, sample_every=0, progress=False)
    Trainer(task, lambda step: (photos, outputs), options, tmp_path / "halves").fit()
    gate = task.generators["G"]
    with torch.no_grad():
        uniform = task.objective(photos, outputs, outputs.mean(1))["total"]
        learned = task.objective(photos, outputs, gate(photos, outputs))["total"]
        weights = gate.weights(photos, outputs)
    assert learned < 0.7 * uniform
    assert weights[:, 0, :, :12].mean() > 0.7 and weights[:, 1, :, 20:].mean() > 0.7
    picture = gate_picture(weights[0])
    assert picture.shape == (3, 32, 32) and not torch.equal(picture[:, :, 0], picture[:, :, -1])


def test_a_gate_folder_stylizes_as_its_members_mixed_by_its_map(tmp_path, capsys, monkeypatch) -> None:
    own = save_style_model(tmp_path / "own", (4, 4, 8), 1, names=("ink",))
    data = random_folder(tmp_path, "photos", 2, seed=1)
    out = tmp_path / "gate"
    code, _, err = run_cli(["train", "gate", "--models", own, "builtin:udnie", "--data", data, "--out", out,
                            "--size", "32", "--steps", "2", "--set", "channels=4", "-q"], capsys, monkeypatch)
    assert code == 0, err
    gate = hub.load(out)
    assert [m.style for m in gate.members] == ["ink", "udnie"]
    assert {p.name for p in (out / "members").iterdir()} == {"0", "1"}  # copies: the folder moves as one piece
    photo = wavy_photo(40, 48)
    outputs = member_outputs(gate.members, photo[None])
    weights = gate.gate_map(photo)
    torch.testing.assert_close(gate.stylize(photo), (weights[:, None] * outputs[0]).sum(0).clamp(0, 1))
    with pytest.raises(StylefuseError, match="drop --style"):
        gate.stylize(photo, ["ink"])
    assert read_config(out)["style_sources"] == ["picabia_udnie_cubism.jpg"]  # the union of its members'
    paintings = random_folder(tmp_path, "paintings", 1, seed=2)
    (paintings / "img0.png").rename(paintings / "picabia_udnie_cubism.png")
    random_folder(tmp_path, "paintings", 1, seed=3)  # img0.png: a painting none of its members learnt
    code, stdout, err = run_cli(["eval", "--method", "gate", "--model", out, "--content", data, "--style", paintings,
                                 "--out", tmp_path / "report", "--size", "32", "--metric", "ssim",
                                 "--no-distribution"], capsys, monkeypatch)
    assert code == 0, err
    assert "2 pairs" in stdout and "skipped img0--img0" in err


@pytest.mark.parametrize("models,expected", [
    (["builtin:starry-night"], "at least two --models"),
    (["builtin:starry-night", "builtin:nope"], "no built-in style 'nope'"),
    (["builtin:starry-night", "INVERTER"], "needs a style image"),
])
def test_bad_members_are_one_line_and_exit_2(models, expected, tmp_path, capsys, monkeypatch) -> None:
    from stylefuse.builtin import INVERTERS_FOLDER

    models = [str(INVERTERS_FOLDER / "relu4_1") if item == "INVERTER" else item for item in models]
    data = random_folder(tmp_path, "photos", 1, seed=0)
    code, _, err = run_cli(["train", "gate", "--models", *models, "--data", data, "--out", tmp_path / "o", "-q"],
                           capsys, monkeypatch)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["train", "fast", "--models", "x", "--data", data, "--style", data, "--out", tmp_path / "f"],
                           capsys, monkeypatch)
    assert code == 2 and "takes no --models" in err
