"""The instant command line: built-in styles through ONNX Runtime without importing PyTorch, with the same
results as the PyTorch path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.helpers import run_cli, wavy_photo

from stylefuse import api
from stylefuse.frontends.instant import BACKEND_VARIABLE, instant_stylizer
from stylefuse.frontends.instant_args import parse_instant
from stylefuse.image.io import read_image, write_image

pytest.importorskip("onnxruntime")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def photo(tmp_path) -> Path:
    return write_image(tmp_path / "photo.png", wavy_photo(48, 72))


def test_same_result_as_the_pytorch_network(photo) -> None:
    """A mix of two styles at strength 0.7: the instant path against the PyTorch backend (no ONNX)."""
    picture = read_image(photo)
    job = api.prepare(["starry-night:0.6", "udnie:0.4"], strength=0.7, wiring={"backend": "torch"})
    reference = job.run(picture).rgb.numpy()
    instant = instant_stylizer(photo, ["starry-night:0.6,udnie:0.4"], strength=0.7, threads=1)
    got = instant.stylize(picture.rgb.numpy())
    assert got.shape == reference.shape == (3, 48, 72)
    assert np.abs(got - reference).max() <= 1e-3
    assert np.abs(got - picture.rgb.numpy()).mean() > 0.02  # it stylized


def test_cli_files_match_the_torch_path_and_keep_alpha(tmp_path, capsys, monkeypatch) -> None:
    alpha = torch.linspace(0, 1, 40)[None, None, :].expand(1, 32, 40)
    photo = write_image(tmp_path / "photo.png", wavy_photo(32, 40), alpha)
    outputs = {}
    for backend in ("onnx", "torch"):
        monkeypatch.setenv(BACKEND_VARIABLE, backend)
        outputs[backend] = tmp_path / f"{backend}.png"
        code, out, err = run_cli(["stylize", photo, "-s", "the-scream", "-o", outputs[backend]], capsys, monkeypatch)
        assert code == 0, err
        assert out.startswith(f"wrote {outputs[backend]} (40x32, ")
    fast, slow = (read_image(path) for path in outputs.values())
    assert fast.alpha is not None and (fast.alpha - alpha).abs().max() <= 1 / 255
    assert (fast.rgb - slow.rgb).abs().max() <= 1 / 255


def test_no_torch_import_once_the_export_is_cached(photo, tmp_path) -> None:
    assert instant_stylizer(photo, ["starry-night"]) is not None  # builds the cached export if needed
    script = ("import sys\nfrom stylefuse.{module} import main\ntry:\n    main(sys.argv[1:])\n"
              "except SystemExit as e:\n    assert not e.code, e.code\nprint('torch' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop(BACKEND_VARIABLE, None)
    out = tmp_path / "out.jpg"
    painting = write_image(tmp_path / "painting.png", wavy_photo(64, 64).flip(0))
    assert instant_stylizer(photo, [str(painting)], method="fast") is not None  # caches its tables too
    runs = [("launcher", ["--style", "starry-night"]), ("cli", ["--style", "starry-night"]),  # both entry points
            ("cli", ["--style", "starry-night", "--quiet", "--strength=0.5", "-s", "udnie:0.2"]),
            ("launcher", ["--method", "fast", "-s", str(painting)])]
    for module, extra in runs:
        args = ["stylize", str(photo), "-o", str(out), *extra]
        done = subprocess.run([sys.executable, "-c", script.format(module=module), *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "False", done.stdout
        assert done.stdout.startswith(f"wrote {out} (72x48, ")
        assert read_image(out).size == (72, 48)


@pytest.fixture
def painting(tmp_path) -> Path:
    """A painting larger than the predictor's style size (the predictor sees it shrunk, as in PyTorch)."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 420), torch.linspace(0, 1, 500), indexing="ij")
    return write_image(tmp_path / "painting.png", torch.stack([torch.sin(40 * x * y) * 0.5 + 0.5, x, 1 - y]))


def test_a_painting_gives_the_tables_and_pixels_of_the_pytorch_path(photo, painting, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path / "cache"))
    picture = read_image(photo)
    job = api.prepare([str(painting)], "fast", wiring={"backend": "torch"})
    job.stylizer.runner.tables.folder = tmp_path / "torch-tables"  # PyTorch predicts its own tables
    reference = job.run(picture).rgb.numpy()
    torch_tables = job.stylizer.runner.painting_tables(read_image(painting).rgb).numpy()
    assert instant_stylizer(photo, [str(painting)]) is None  # a painting needs --method fast here
    instant = instant_stylizer(photo, [str(painting)], method="fast", threads=1)
    assert np.abs(instant.style["tables"] - torch_tables).max() <= 1e-3
    got = instant.stylize(picture.rgb.numpy())
    assert got.shape == reference.shape and np.abs(got - reference).max() <= 2e-3
    assert sorted(path.name.split("-")[0] for path in (tmp_path / "cache" / "fast_tables").iterdir()) == \
        [path.name.split("-")[0] for path in (tmp_path / "torch-tables").iterdir()]  # same weights key, one file


def test_paintings_mix_by_weight_and_names_do_not_mix_with_them(photo, painting, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path / "cache"))
    flat = write_image(tmp_path / "flat.png", torch.full((3, 300, 300), 0.3))
    tables = [instant_stylizer(photo, [str(path)], method="fast").style["tables"] for path in (painting, flat)]
    mixed = instant_stylizer(photo, [f"{painting}:0.75,{flat}:0.25"], method="fast").style["tables"]
    assert np.allclose(mixed, 0.75 * tables[0] + 0.25 * tables[1], atol=1e-6)
    assert instant_stylizer(photo, [str(painting), "udnie"], method="fast") is None  # the normal path mixes them


def test_the_first_call_exports_into_the_cache(photo, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path / "cache"))
    assert instant_stylizer(photo, ["udnie"]) is not None
    exports = list((tmp_path / "cache" / "onnx").glob("fast_stylizer-*.onnx"))
    assert len(exports) == 1
    before = exports[0].stat().st_mtime_ns
    api.prepare(["udnie"]).run(read_image(photo))  # the fast stylizer's ONNX backend reuses the same file
    assert [path.stat().st_mtime_ns for path in (tmp_path / "cache" / "onnx").iterdir()] == [before]


@pytest.mark.parametrize("argv", [
    ["stylize", "p.jpg", "-s", "udnie", "--size", "256"],
    ["stylize", "p.jpg", "-s", "udnie", "--mask", "m.png"],
    ["stylize", "p.jpg", "-s", "udnie", "--method", "adain"],
    ["stylize", "p.jpg", "-s", "udnie", "--strength", "2"],
    ["stylize", "p.jpg", "-s", "udnie", "--device", "cuda"],
    ["stylize", "p.jpg", "q.jpg", "-s", "udnie"],
    ["stylize", "p.jpg", "-s"],
    ["stylize", "--help"],
    ["train", "fast"],
])
def test_other_command_lines_take_the_normal_path(argv) -> None:
    assert parse_instant(argv) is None


def test_early_parser_reads_the_instant_options() -> None:
    request = parse_instant(["stylize", "p.jpg", "--style=udnie:0.3", "-s", "the-scream", "-o", "o.png",
                             "--strength", "0.4", "--threads=2", "--max-pixels", "1000", "-q", "--overwrite-input"])
    assert request is not None
    assert (request.content, request.styles, request.output) == (Path("p.jpg"), ["udnie:0.3", "the-scream"],
                                                                 Path("o.png"))
    assert (request.strength, request.threads, request.max_pixels, request.overwrite_input) == (0.4, 2, 1000, True)


def test_requests_that_need_torch_fall_back(photo, tmp_path, monkeypatch) -> None:
    assert instant_stylizer(photo, ["no-such-style"]) is None  # the normal path names the known styles
    assert instant_stylizer(photo, ["udnie:0"]) is None
    assert instant_stylizer(tmp_path / "clip.mp4", ["udnie"]) is None
    assert instant_stylizer(photo, [str(photo)]) is None  # a style image
    monkeypatch.setenv(BACKEND_VARIABLE, "torch")
    assert instant_stylizer(photo, ["udnie"]) is None


def test_errors_on_the_instant_path_are_one_line(tmp_path, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["stylize", tmp_path / "missing.jpg", "-s", "udnie"], capsys, monkeypatch)
    assert code == 2 and err.strip() == f"error: cannot read {tmp_path / 'missing.jpg'}: no such file or folder"


@pytest.mark.parametrize("args", [["list"], ["stylize", "--help"]])
def test_other_commands_do_not_pay_for_the_instant_path(args) -> None:
    """Recognising instant command lines imports nothing heavy: ``list`` and ``--help`` stay cheap."""
    script = ("import sys\nfrom stylefuse.launcher import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
              "    pass\nprint([name for name in ('numpy', 'onnxruntime', 'torch') if name in sys.modules])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout + done.stderr
