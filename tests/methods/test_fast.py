"""The fast method's stylizer: multi-style model folders, name resolution, mixing, strength, backends,
CLI and API."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import stylefuse
from stylefuse import hub
from stylefuse.builtin import STYLES_FOLDER as BUILTIN_FOLDER
from stylefuse.builtin import builtin_style_names
from stylefuse.errors import OptionError
from stylefuse.image.io import read_image, write_image
from stylefuse.methods.fast import FastStylizer
from tests.helpers import run_cli, save_style_model


@pytest.fixture
def style_model(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "model", channels=(8, 16, 16), blocks=1)


@pytest.fixture
def photo(tmp_path: Path, small_content) -> Path:
    return write_image(tmp_path / "photo.png", small_content)


def test_style_vector_normalises_and_checks_names(style_model) -> None:
    model = FastStylizer(style_model, backend="torch")
    assert torch.allclose(model.style_vector([("ink", 3.0), ("sun", 1.0)]), torch.tensor([0.75, 0.25]))
    with pytest.raises(OptionError, match="unknown style 'rain'; known styles: ink, sun"):
        model.style_vector([("rain", 1.0)])
    with pytest.raises(OptionError, match="all zero"):
        model.style_vector([("ink", 0.0)])


def test_onnxruntime_and_torch_agree(style_model, small_content) -> None:
    torch_model = FastStylizer(style_model, backend="torch")
    onnx_model = FastStylizer(style_model, backend="onnxruntime")
    a = torch_model.stylize(small_content, ["ink", "sun"], [0.3, 0.7])
    b = onnx_model.stylize(small_content, ["ink", "sun"], [0.3, 0.7])
    assert a.shape == small_content.shape  # 48x64 is padded to multiples of 8 and cropped back
    assert (a - b).abs().max() < 1e-4


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_thin_and_tiny_images_are_padded_not_refused(style_model, backend) -> None:
    model = FastStylizer(style_model, backend=backend)
    for shape in [(3, 2, 150), (3, 1, 1), (3, 150, 3)]:
        out = model.stylize(torch.rand(shape), ["ink"])
        assert out.shape == shape and torch.isfinite(out).all()


def test_strength_blends_with_the_content(style_model, small_content) -> None:
    from stylefuse import api

    full = FastStylizer(style_model, backend="torch").stylize(small_content, ["ink"])
    picture = api.as_picture(small_content)
    assert torch.allclose(api.prepare(["ink"], model=style_model, strength=0.0).run(picture).rgb, small_content)
    half = api.prepare(["ink"], model=style_model, strength=0.5, wiring={"backend": "torch"}).run(picture).rgb
    assert torch.allclose(half, (full + small_content) / 2, atol=1e-5)
    with pytest.raises(OptionError, match="strength"):
        api.prepare(["ink"], model=style_model, strength=2.0)


def test_mixing_styles_interpolates_between_them(style_model, small_content) -> None:
    model = FastStylizer(style_model, backend="torch")
    ink, sun = (model.stylize(small_content, [n]) for n in ("ink", "sun"))
    mix = model.stylize(small_content, ["ink", "sun"], [0.5, 0.5])
    assert 0 < (mix - ink).abs().mean() < (sun - ink).abs().mean()


def test_hub_loads_the_folder_and_reuses_the_loaded_network(style_model) -> None:
    first, second = hub.load(style_model), hub.load(style_model, size=32)
    assert isinstance(first, FastStylizer) and first.names == ["ink", "sun"]
    assert first.runner is second.runner and second.size == 32


def test_api_resolves_names(style_model, small_content) -> None:
    image = stylefuse.stylize(small_content, "ink:0.5,sun:0.5", model=style_model)
    assert image.size == (64, 48)
    assert stylefuse.stylize(small_content, "ink", model=style_model, size=32).size == (32, 24)
    with pytest.raises(OptionError, match="method fast does not take steps"):
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
    code, _, err = run_cli(["stylize", photo, "--model", style_model, "-s", "ink", "--steps", "3", "-o", out],
                           capsys, monkeypatch)
    assert code == 2 and err.strip() == ("error: method fast does not take steps (its options: model, size, "
                                         "thumbnail, tile)")


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
