"""The command line: outputs, folders with broken files, one-line errors with exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from stylefuse.cli import main
from stylefuse.image.io import read_image, write_image
from tests.helpers import run_cli

FAST = ["--method", "gatys", "--size", "32", "--steps", "2", "--levels", "1", "-q"]


@pytest.fixture
def images(tmp_path: Path, small_content, small_style) -> dict[str, Path]:
    return {"content": write_image(tmp_path / "content.png", small_content),
            "style": write_image(tmp_path / "style.jpg", small_style)}


def test_stylize_file(tmp_path, images, capsys, monkeypatch) -> None:
    out = tmp_path / "result" / "out.jpg"
    code, stdout, _ = run_cli(["stylize", images["content"], "-s", images["style"], "-o", out, *FAST],
                              capsys, monkeypatch)
    assert code == 0 and f"wrote {out}" in stdout
    assert read_image(out).size == (32, 24)


def test_blend_and_preserve_color(tmp_path, images, capsys, monkeypatch) -> None:
    out = tmp_path / "blend.png"
    args = ["stylize", images["content"], "-s", f"{images['style']}:0.7", "-s", f"{images['content']}:0.3",
            "--preserve-color", "-o", out, *FAST]
    code, _, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    assert out.is_file()


def test_folder_with_broken_files_goes_on(tmp_path, images, capsys, monkeypatch) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image(folder / "a.png", torch.rand(3, 40, 40))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "empty.png").write_bytes(b"")
    (folder / "readme.txt").write_text("not an image: ignored quietly")
    write_image(folder / "b.jpg", torch.rand(3, 30, 50))
    out_dir = tmp_path / "styled"
    code, stdout, err = run_cli(["stylize", folder, "-s", images["style"], "-o", out_dir, *FAST], capsys, monkeypatch)
    assert code == 2
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.png", "b.jpg"]
    assert "skipped broken.jpg" in err and "skipped empty.png" in err and "empty (0 bytes)" in err
    assert "2 written, 2 skipped" in stdout


@pytest.mark.parametrize("case,expected", [
    ("missing_content", "no such file"),
    ("missing_style", "no such file"),
    ("corrupt_content", "not an image"),
    ("zero_weights", "all zero"),
    ("bad_method", "unknown method"),
    ("bad_extension", "unknown extension"),
    ("overwrite_input", "refusing to overwrite the input"),
    ("bad_optimizer", "unknown optimizer"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, images, capsys, monkeypatch, case, expected) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_text("not a png")
    content, style, out = images["content"], images["style"], tmp_path / "out.png"
    extra: list = []
    if case == "missing_content":
        content = tmp_path / "nope.jpg"
    elif case == "missing_style":
        style = tmp_path / "nope.jpg"
    elif case == "corrupt_content":
        content = corrupt
    elif case == "zero_weights":
        style = f"{style}:0"
    elif case == "bad_method":
        extra = ["--method", "nope"]
    elif case == "bad_extension":
        out = tmp_path / "out.xyz"
    elif case == "overwrite_input":
        out = content
    elif case == "bad_optimizer":
        extra = ["--optimizer", "sgd"]
    before = content.read_bytes() if content.exists() else None
    code, _, err = run_cli(["stylize", content, "-s", style, "-o", out, *FAST, *extra], capsys, monkeypatch)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    if before is not None:
        assert content.read_bytes() == before


def test_debug_shows_traceback(tmp_path, images, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["stylefuse", "--debug", "stylize", str(tmp_path / "nope.jpg"),
                                      "-s", str(images["style"])])
    with pytest.raises(Exception, match="no such file"):
        main()


def test_list_and_info(capsys, monkeypatch) -> None:
    code, stdout, _ = run_cli(["list"], capsys, monkeypatch)
    assert code == 0 and "gatys" in stdout and "adain" in stdout and "built-in styles" in stdout
    code, stdout, _ = run_cli(["info"], capsys, monkeypatch)
    assert code == 0 and "torch" in stdout and "threads" in stdout and "vgg16 weights" in stdout


def test_whole_bench_content_folder(tmp_path, bench, capsys, monkeypatch) -> None:
    style = bench / "style" / "vangogh_starry_night.jpg"
    code, stdout, err = run_cli(["stylize", bench / "content", "-s", style, "-o", tmp_path / "out", *FAST],
                                capsys, monkeypatch)
    count = len(list((bench / "content").glob("*.jpg")))
    assert code == 0, err
    assert f"{count} written, 0 skipped" in stdout and len(list((tmp_path / "out").iterdir())) == count


def test_arbitrary_style_with_mask_and_bad_inputs(tmp_path, images, capsys, monkeypatch) -> None:
    from stylefuse.methods._feature_transfer import INVERTER_FOLDER

    if not (INVERTER_FOLDER / "relu4_1" / "config.json").is_file():
        pytest.skip("no shipped inverters")
    mask = torch.zeros(3, 48, 64)
    mask[:, :, :32] = 1
    mask_path = write_image(tmp_path / "mask.png", mask)
    out = tmp_path / "masked.png"
    code, _, err = run_cli(["stylize", images["content"], "-s", images["style"], "-s", images["content"], "--mask",
                            mask_path, "--method", "adain", "--strength", "0.8", "-o", out, "-q"], capsys, monkeypatch)
    assert code == 0, err
    assert read_image(out).size == (64, 48)
    small_mask = write_image(tmp_path / "small.png", torch.ones(3, 10, 10))
    code, _, err = run_cli(["stylize", images["content"], "-s", images["style"], "-s", images["content"], "--mask",
                            small_mask, "--method", "wct", "-o", out, "-q"], capsys, monkeypatch)
    assert code == 2 and "masks must match the content image's size" in err
    code, _, err = run_cli(["stylize", images["content"], "-s", f"{images['style']}:0", "--method", "adain",
                            "-o", out], capsys, monkeypatch)
    assert code == 2 and "all zero" in err
    code, _, err = run_cli(["stylize", images["content"], "-s", tmp_path / "missing.jpg", "--method", "adain",
                            "-o", out], capsys, monkeypatch)
    assert code == 2 and "missing.jpg" in err and len(err.strip().splitlines()) == 1
