"""`stylefuse train` refuses bad recipes and options with one line and exit status 2, before reading any data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylefuse.image.io import write_image
from tests.helpers import run_cli

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
