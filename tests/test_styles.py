"""Named styles: multi-style model folders, name resolution, mixing, strength, backends, CLI and API."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from stylefuse.styles import BUILTIN_FOLDER, FastStyleModel, builtin_style_names, load_style_model

import stylefuse
from stylefuse.errors import OptionError
from stylefuse.image.io import read_image, write_image
from tests.helpers import save_style_model
from tests.test_cli import run_cli


@pytest.fixture
def style_model(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "model", channels=(8, 16, 16), blocks=1)


@pytest.fixture
def photo(tmp_path: Path, small_content) -> Path:
    return write_image(tmp_path / "photo.png", small_content)


def test_style_vector_normalises_and_checks_names(style_model) -> None:
    model = FastStyleModel(style_model, backend="torch")
    assert torch.allclose(model.style_vector([("ink", 3.0), ("sun", 1.0)]), torch.tensor([0.75, 0.25]))
    with pytest.raises(OptionError, match="unknown style 'rain'; known styles: ink, sun"):
        model.style_vector([("rain", 1.0)])
    with pytest.raises(OptionError, match="all zero"):
        model.style_vector([("ink", 0.0)])


def test_onnxruntime_and_torch_agree(style_model, small_content) -> None:
    torch_model = FastStyleModel(style_model, backend="torch")
    onnx_model = FastStyleModel(style_model, backend="onnxruntime")
    vector = torch_model.style_vector([("ink", 0.3), ("sun", 0.7)])
    a, b = torch_model.stylize(small_content, vector), onnx_model.stylize(small_content, vector)
    assert a.shape == small_content.shape  # 48x64 is padded to multiples of 8 and cropped back
    assert (a - b).abs().max() < 1e-4


def test_strength_blends_with_the_content(style_model, small_content) -> None:
    model = FastStyleModel(style_model, backend="torch")
    vector = model.style_vector([("ink", 1.0)])
    assert torch.allclose(model.stylize(small_content, vector, strength=0.0), small_content)
    full, half = model.stylize(small_content, vector), model.stylize(small_content, vector, strength=0.5)
    assert torch.allclose(half, (full + small_content) / 2, atol=1e-5)
    with pytest.raises(OptionError, match="strength"):
        model.stylize(small_content, vector, strength=2.0)


def test_mixing_styles_interpolates_between_them(style_model, small_content) -> None:
    model = FastStyleModel(style_model, backend="torch")
    ink, sun = (model.stylize(small_content, model.style_vector([(n, 1.0)])) for n in ("ink", "sun"))
    mix = model.stylize(small_content, model.style_vector([("ink", 0.5), ("sun", 0.5)]))
    assert 0 < (mix - ink).abs().mean() < (sun - ink).abs().mean()


def test_api_resolves_names_and_reuses_the_loaded_model(style_model, small_content) -> None:
    image = stylefuse.stylize(small_content, "ink:0.5,sun:0.5", model=style_model)
    assert image.size == (64, 48)
    assert load_style_model(str(style_model)) is load_style_model(str(style_model))
    assert stylefuse.stylize(small_content, "ink", model=style_model, size=32).size == (32, 24)
    with pytest.raises(OptionError, match="besides size"):
        stylefuse.stylize(small_content, "ink", model=style_model, steps=3)
    with pytest.raises(OptionError, match="not both"):
        stylefuse.stylize(small_content, ["ink", __file__], model=style_model)


def test_cli_stylize_with_named_styles(tmp_path, style_model, photo, capsys, monkeypatch) -> None:
    out = tmp_path / "out.png"
    code, stdout, err = run_cli(["stylize", photo, "--model", style_model, "--style", "ink:0.6,sun:0.4",
                                 "--strength", "0.8", "--preserve-color", "-o", out], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(out).size == (64, 48)
    code, _, err = run_cli(["stylize", photo, "--model", style_model, "--style", "ink", "--size", "32", "-o", out],
                           capsys, monkeypatch)
    assert code == 0 and read_image(out).size == (32, 24), err
    code, _, err = run_cli(["stylize", photo, "--model", style_model, "--style", "rain", "-o", out],
                           capsys, monkeypatch)
    assert code == 2 and err.strip() == "error: unknown style 'rain'; known styles: ink, sun"
    code, _, err = run_cli(["stylize", photo, "--model", style_model, "-o", out], capsys, monkeypatch)
    assert code == 2 and "choose with --style NAME (ink, sun)" in err


def test_cli_sheet_renders_every_style(tmp_path, style_model, photo, capsys, monkeypatch) -> None:
    out = tmp_path / "sheet.png"
    code, stdout, err = run_cli(["sheet", photo, "--model", style_model, "--size", "64", "-o", out],
                                capsys, monkeypatch)
    assert code == 0, err
    assert "2 styles" in stdout
    width, height = read_image(out).size
    assert width > 2 * 64 and height > 2 * 48  # original + 2 styles on a 2x2 grid


needs_builtin = pytest.mark.skipif(not (BUILTIN_FOLDER / "config.json").is_file(), reason="no built-in model")


@needs_builtin
def test_builtin_styles_are_listed_and_stylize(small_content, capsys, monkeypatch) -> None:
    names = builtin_style_names()
    assert {"starry-night", "the-scream", "great-wave"} <= set(names) and len(names) == 11
    code, stdout, _ = run_cli(["list"], capsys, monkeypatch)
    assert code == 0 and "starry-night" in stdout
    image = stylefuse.stylize(small_content, "starry-night")
    assert image.size == (64, 48)


@needs_builtin
def test_builtin_model_is_small_and_records_its_encoder() -> None:
    from stylefuse.hub import read_config

    assert (BUILTIN_FOLDER / "model.safetensors").stat().st_size < 10 * 2**20
    assert read_config(BUILTIN_FOLDER)["encoder"].startswith("vgg16")
