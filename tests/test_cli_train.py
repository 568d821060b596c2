"""`stylefuse train / translate / generate / stylize --model` end to end on tiny data; bad recipes and options
are one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from stylefuse import hub
from stylefuse.image.io import read_image, write_image
from stylefuse.methods._base import Stylizer
from stylefuse.registry import TRAINABLE
from tests.helpers import run_cli

TINY = {"cyclegan": ["--set", "blocks=1", "--set", "base=4"],
        "pix2pix": ["--set", "depth=5", "--set", "base=4"],
        "adversarial_style": ["--set", "blocks=1", "--set", "base=4", "--batch-size", "2"],
        "dcgan": ["--set", "base=4", "--batch-size", "4"],
        "fast": ["--set", "channels=[4,4,4]", "--set", "blocks=1", "--set", "style_size=32", "--batch-size", "2"],
        "inverter": ["--level", "relu2_1", "--set", "width=0.125", "--batch-size", "2"],
        "personalize": ["--set", "style_size=32", "--batch-size", "2"],
        "gate": ["builtin:great-wave", "--set", "channels=4", "--batch-size", "2"],
        "fast-arbitrary": ["--set", "style_crop=32", "--set", "augmentations=1", "--set", "hidden=8",
                           "--set", "bottleneck=4", "--batch-size", "2"],
        "conditional": ["--set", "channels=4", "--set", "wide_channels=4", "--set", "blocks=[1,1,1]",
                        "--batch-size", "2", "--tasks", "denoise,sr2,inpaint"]}

RECORDED = {"fast-arbitrary": "fast"}
"""Trainables whose folders are served by another method (the fast network with its predictor)."""


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    generator = torch.Generator().manual_seed(0)
    for name in ("a", "b"):
        for index in range(3):
            write_image(tmp_path / name / f"{index}.png", torch.rand(3, 40, 36, generator=generator))
    (tmp_path / "a" / "broken.png").write_bytes(b"nope")
    return {"a": tmp_path / "a", "b": tmp_path / "b", "data": tmp_path / "a", "style": tmp_path / "b",
            "models": "builtin:starry-night"}


def test_every_trainable_method_has_a_tiny_recipe() -> None:
    assert set(TRAINABLE.names()) == set(TINY)


@pytest.mark.parametrize("method", sorted(TINY))
def test_train_then_use(method, folders, tmp_path, capsys, monkeypatch) -> None:
    cls = TRAINABLE.get(method)
    data = [arg for name in cls.data_folders for arg in (f"--{name}", folders[name])]
    out = tmp_path / "model"
    size = "32"
    code, stdout, err = run_cli(["train", method, *data, "--size", size, "--steps", "2", "--out", out, "-q",
                                 "--checkpoint-every", "1", "--sample-every", "1", *TINY[method]], capsys, monkeypatch)
    assert code == 0, err
    assert "skipped broken.png" in err
    assert {"config.json", "model.safetensors", "checkpoint.pt", "metrics.jsonl"} <= {p.name for p in out.iterdir()}
    assert list((out / "samples").glob("*.png"))
    assert json.loads((out / "config.json").read_text())["method"] == RECORDED.get(method, method)
    code, _, err = run_cli(["train", method, *data, "--size", size, "--steps", "3", "--out", out, "-q", "--resume",
                            *TINY[method]], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["steps"] == 3
    assert isinstance(hub.load(out, **({"method": "wct"} if method == "inverter" else {})), Stylizer)
    photo, painting, result = folders["a"] / "0.png", folders["b"] / "1.png", tmp_path / "s.png"
    if method == "dcgan":
        grid = tmp_path / "grid.png"
        code, _, err = run_cli(["generate", "--model", out, "-n", "4", "-o", grid], capsys, monkeypatch)
        assert code == 0, err
        assert read_image(grid).size == (2 + 2 * 34, 2 + 2 * 34)
        code, _, err = run_cli(["stylize", photo, "--model", out, "-o", result], capsys, monkeypatch)
        assert code == 2 and "use `stylefuse generate --model`" in err
        return
    style = {"fast": ["--style", "0:0.5,2:0.5"], "inverter": ["--method", "wct", "--style", painting],
             "fast-arbitrary": ["--style", painting]}.get(method, [])
    if method == "fast":  # the three images of the style folder are three named styles
        assert json.loads((out / "config.json").read_text())["style_names"] == ["0", "1", "2"]
    code, _, err = run_cli(["stylize", photo, "--model", out, *style, "-o", result, "-q"], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(result).size == (36, 40)
    if method in ("cyclegan", "pix2pix", "adversarial_style"):
        code, stdout, err = run_cli(["translate", photo, "--model", out, "-o", tmp_path / "t.png"],
                                    capsys, monkeypatch)
        assert code == 0, err
        assert torch.equal(read_image(tmp_path / "t.png").rgb, read_image(result).rgb)
        code, _, err = run_cli(["stylize", photo, "--model", out, "--style", painting, "-o", result],
                               capsys, monkeypatch)
        assert code == 2 and "drop --style" in err


@pytest.mark.parametrize("args,expected", [
    (["train", "cyclegan", "--a", "A"], "missing --b"),
    (["train", "pix2pix", "--a", "A", "--b", "A", "--set", "nonsense=1"], "--set takes KEY=VALUE"),
    (["train", "gatys", "--data", "A"], "unknown training method"),
    (["train", "dcgan", "--data", "nowhere"], "is not a folder"),
    (["translate", "IMG", "--model", "nowhere"], "not a model folder"),
])
def test_train_errors(args, expected, folders, tmp_path, capsys, monkeypatch) -> None:
    args = [str(folders["a"]) if a == "A" else str(folders["b"] / "0.png") if a == "IMG" else a for a in args]
    code, _, err = run_cli([*args, "--out", tmp_path / "o"] if args[0] == "train" else args, capsys, monkeypatch)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_early_stopping_from_the_cli(tmp_path, capsys, monkeypatch) -> None:
    for index in range(2):
        image = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(index))
        write_image(tmp_path / "a" / f"{index}.png", image)
        write_image(tmp_path / "b" / f"{index}.png", 1 - image)
    out = tmp_path / "model"
    args = ["train", "pix2pix", "--a", tmp_path / "a", "--b", tmp_path / "b", "--size", "32", "--steps", "30",
            "--out", out, "-q", "--validate-every", "1", "--patience", "1", "--lr", "0.5", *TINY["pix2pix"]]
    code, stdout, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert "stopped early" in stdout  # a learning rate of 0.5 cannot keep improving
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("validation" in record for record in records)
    code, _, err = run_cli(["train", "dcgan", "--data", tmp_path / "a", "--size", "32", "--steps", "2", "--out",
                            tmp_path / "d", "--validate-every", "1", "-q"], capsys, monkeypatch)
    assert code == 2 and "no validation metric" in err


MISSING = "no-such-folder"  # the recipe is checked before the data are read


@pytest.mark.parametrize("args,expected", [
    (["dcgan", "--data", MISSING, "--size", "50"], "--size 50: the crop size must be a power of two from 16 up"),
    (["dcgan", "--data", MISSING, "--size", "100"], "--size 100: the crop size must be a power of two"),
    (["cyclegan", "--a", MISSING, "--b", MISSING, "--size", "50"], "--size 50: the crop size must be a multiple of 4"),
    (["adversarial_style", "--data", MISSING, "--style", MISSING, "--size", "50"], "--size 50: the crop size must"),
    (["inverter", "--data", MISSING, "--size", "50"], "--size 50: the crop size must be a multiple of 8"),
    (["cyclegan", "--a", MISSING, "--b", MISSING, "--gan-loss", "foo"], "--gan-loss foo: choose from bce, lsgan"),
    (["cyclegan", "--a", MISSING, "--b", MISSING, "--diff-augment", "blur"], "--diff-augment blur: unknown part"),
    (["pix2pix", "--a", MISSING, "--b", MISSING, "--batch-size", "0"], "--batch-size 0: must be >= 1"),
    (["cyclegan", "--a", MISSING, "--b", MISSING, "--set", "lambda_cycle=-1"], "--set lambda_cycle=-1.0: must be"),
])
def test_bad_recipes_are_one_line_and_exit_2(args, expected, tmp_path, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["train", *args, "--out", tmp_path / "o", "--steps", "1", "-q"], capsys, monkeypatch)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    generator = torch.Generator().manual_seed(0)
    for index in range(2):
        write_image(tmp_path / "a" / f"{index}.png", torch.rand(3, 40, 40, generator=generator))
    return tmp_path / "a"


def _train(photos: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "cyclegan", "--a", photos, "--b", photos, "--size", "32", "--steps", "1", "--out", out, "-q",
            "--set", "blocks=1", "--set", "base=4", "--checkpoint-every", "0", "--sample-every", "0", *extra]


@pytest.mark.parametrize("extra,expected", [
    (["--lr", "-1"], "--lr -1.0: must be > 0"),
    pytest.param(["--device", "cuda"], "--device cuda: no CUDA GPU",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")),
])
def test_bad_training_options_are_one_line_and_exit_2(extra, expected, photos, tmp_path, capsys, monkeypatch) -> None:
    code, _, err = run_cli(_train(photos, tmp_path / "o", *extra), capsys, monkeypatch)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err


def test_a_folder_that_holds_a_run_is_refused_without_resume(photos, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "o"
    code, _, err = run_cli(_train(photos, out), capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(_train(photos, out), capsys, monkeypatch)
    assert code == 2 and "already holds a training run" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(_train(photos, out, "--resume", "--size", "64"), capsys, monkeypatch)
    assert code == 2 and "the checkpoint was trained with size=32, this run asks for size=64" in err


def test_staged_training_changes_the_recipe_on_request(photos, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "o"
    code, _, err = run_cli(_train(photos, out), capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(_train(photos, out, "--resume", "--change-recipe", "--size", "36", "--steps", "2",
                                  "--lr", "1e-4"), capsys, monkeypatch)
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["steps"] == 2 and config["recipe"]["size"] == 36 and config["recipe"]["lr"] == 1e-4
    lines = (out / "metrics.jsonl").read_text().splitlines()
    changes = [json.loads(line) for line in lines if "recipe_changed" in line]
    assert len(changes) == 1 and changes[0]["step"] == 1 and changes[0]["recipe_changed"]["from"]["size"] == 32
    code, _, err = run_cli(_train(photos, out, "--resume", "--change-recipe", "--set", "base=8", "--steps", "3"),
                           capsys, monkeypatch)
    assert code == 2 and "does not fit this run's networks" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("size", ["36", "100"])
def test_pix2pix_trains_at_sizes_its_unet_depth_adapts_to(size, photos, tmp_path, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["train", "pix2pix", "--a", photos, "--b", photos, "--size", size, "--steps", "1",
                            "--out", tmp_path / "p", "-q", "--set", "base=4", "--sample-every", "0"],
                           capsys, monkeypatch)
    assert code == 0, err


def test_a_diverging_run_exits_2_with_one_line_and_no_model(photos, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "o"
    code, _, err = run_cli(_train(photos, out, "--lr", "1e38", "--steps", "20"), capsys, monkeypatch)
    assert code == 2 and "training diverged at step" in err and len(err.strip().splitlines()) == 1, err
    assert not (out / "config.json").exists() and not (out / "model.safetensors").exists()
