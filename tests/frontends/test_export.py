"""``stylefuse export``: every feed-forward model folder kind, ONNX Runtime and TorchScript parity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tests.helpers import save_style_model
from tests.test_cli import run_cli

from stylefuse import hub
from stylefuse.frontends.export import export_model
from stylefuse.hub import save_model
from stylefuse.image.io import read_image, write_image
from stylefuse.nn.generators import ResnetGenerator, UnetGenerator
from stylefuse.nn.inverter import VGGInverter
from stylefuse.registry import METHODS

ort = pytest.importorskip("onnxruntime")


def save_generator(folder: Path, kind: str) -> Path:
    """A tiny untrained generator model folder: ``resnet`` (cyclegan) or ``unet`` (pix2pix)."""
    torch.manual_seed(0)
    if kind == "resnet":
        config, name, method = dict(blocks=1, base=8), "resnet_generator", "cyclegan"
        network = ResnetGenerator(**config)
    else:
        config, name, method = dict(depth=4, base=8), "unet_generator", "pix2pix"
        network = UnetGenerator(**config)
    return save_model(network, folder, name, config, extra={"method": method})


def save_inverter(folder: Path) -> Path:
    """A tiny untrained relu4_1 inverter model folder (loaded by adain)."""
    torch.manual_seed(0)
    config = dict(level="relu4_1", width=0.125)
    return save_model(VGGInverter(**config), folder, "vgg16_inverter", config,
                      extra={"method": "inverter", "level": "relu4_1"})


def run_onnx(path: Path, *inputs: torch.Tensor) -> torch.Tensor:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]
    return torch.from_numpy(session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})[0])


@pytest.fixture
def content() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(3, 48, 64)


def test_fast_parity_onnx_and_torchscript(tmp_path, content) -> None:
    folder = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    stylizer = METHODS.get("fast")(model=folder, backend="torch")
    expected = stylizer.stylize(content, ["sun"])
    onnx_file = export_model(folder, tmp_path / "fast.onnx")
    got = run_onnx(onnx_file, content[None], torch.tensor([[0.0, 1.0]]))[0]
    assert got.shape == expected.shape and (got - expected).abs().max() <= 1e-3
    other = torch.rand(1, 3, 40, 72)  # another size: height and width are dynamic
    reference = stylizer.runner.network(other, torch.tensor([[0.5, 0.5]]))
    assert (run_onnx(onnx_file, other, torch.tensor([[0.5, 0.5]])) - reference).abs().max() <= 1e-3
    script = torch.jit.load(export_model(folder, tmp_path / "fast.pt", "torchscript"))
    assert (script(other, torch.tensor([[0.5, 0.5]])) - reference).abs().max() <= 1e-4


@pytest.mark.parametrize("kind", ["resnet", "unet"])
def test_generator_parity(tmp_path, content, kind) -> None:
    folder = save_generator(tmp_path / kind, kind)
    expected = hub.load(folder).stylize(content)
    got = run_onnx(export_model(folder, tmp_path / "g.onnx"), content[None])[0]
    assert got.shape == expected.shape and (got - expected).abs().max() <= 1e-3
    script = torch.jit.load(export_model(folder, tmp_path / "g.pt", "torchscript"))
    assert (script(content[None])[0] - expected).abs().max() <= 1e-4


def test_inverter_exports_adain_with_parity(tmp_path, small_style) -> None:
    # at least 128 px a side: smaller images get a narrower mirrored border from the stylizer than the graph's
    content = torch.rand(3, 128, 160, generator=torch.Generator().manual_seed(1))
    folder = save_inverter(tmp_path / "inv")
    stylizer = hub.load(folder, style_size=max(small_style.shape[-2:]), strength=0.8)
    expected = stylizer.stylize(content, [small_style])
    # exported by the command in its own process: exporting VGG16 frees large buffers, which raises glibc's
    # mmap threshold for the rest of the process and skews later tests that measure peak memory
    out = tmp_path / "adain.onnx"
    subprocess.run([sys.executable, "-m", "stylefuse", "export", "--model", str(folder), "-o", str(out)], check=True,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True)
    got = run_onnx(out, content[None], small_style[None], torch.tensor([0.8]))[0]
    assert got.shape == expected.shape and (got - expected).abs().max() <= 1e-3


def test_int8_runs_and_stays_close(tmp_path, content) -> None:
    folder = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    style = torch.tensor([[1.0, 0.0]])
    fp32 = run_onnx(export_model(folder, tmp_path / "fp32.onnx"), content[None], style)
    small = export_model(folder, tmp_path / "int8.onnx", int8=True)
    int8 = run_onnx(small, content[None], style)
    assert int8.shape == fp32.shape and torch.isfinite(int8).all()
    assert (int8 - fp32).abs().mean() < 0.02


def test_onnx_metadata_names_styles_and_multiple(tmp_path) -> None:
    import onnx

    folder = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    model = onnx.load(str(export_model(folder, tmp_path / "fast.onnx")))
    meta = {entry.key: entry.value for entry in model.metadata_props}
    assert meta["multiple"] == "8" and "sun" in meta["style_names"]


def test_cli_export_and_errors(tmp_path, capsys, monkeypatch) -> None:
    folder = save_generator(tmp_path / "gen", "resnet")
    out = tmp_path / "out" / "gen.onnx"
    code, stdout, err = run_cli(["export", "--model", folder, "-o", out], capsys, monkeypatch)
    assert code == 0 and f"wrote {out}" in stdout, err
    inverter = save_inverter(tmp_path / "inv")
    for args, message in ([["--format", "tflite"], "unknown format"], [["--format", "torchscript", "--int8"], "int8"],
                          [["--model", inverter, "--method", "wct"], "cannot be exported"]):
        code, _, err = run_cli(["export", "--model", folder, "-o", tmp_path / "x", *args], capsys, monkeypatch)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_exported_files_run_through_the_onnx_method(tmp_path, content, capsys, monkeypatch) -> None:
    from stylefuse import api

    fast = save_style_model(tmp_path / "fast", [8, 16, 32], 1)
    onnx_file = export_model(fast, tmp_path / "fast.onnx")
    reference = api.prepare(["sun"], model=fast, strength=0.7, wiring={"backend": "torch"}).run(
        api.as_picture(content[:, :45, :61])).rgb
    job = api.prepare(["sun"], "onnx", strength=0.7, file=onnx_file)
    got = job.run(api.as_picture(content[:, :45, :61])).rgb  # odd sizes: padded and cropped back
    assert got.shape == reference.shape and (got - reference).abs().max() <= 1e-3
    assert not job.stylizer.native_strength and job.blend == 0.7  # the front end blends, as for the fast method
    generator = save_generator(tmp_path / "gen", "unet")
    photo, out = write_image(tmp_path / "content.png", content), tmp_path / "gen.png"
    code, _, err = run_cli(["export", "--model", generator, "-o", tmp_path / "gen.onnx"], capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run_cli(["stylize", photo, "--method", "onnx", "--set", f"file={tmp_path / 'gen.onnx'}", "-o", out],
                           capsys, monkeypatch)
    assert code == 0, err
    assert (read_image(out).rgb - hub.load(generator).stylize(read_image(photo).rgb)).abs().max() <= 2 / 255
    code, _, err = run_cli(["stylize", photo, "--method", "onnx", "--set", "file=missing.onnx"], capsys, monkeypatch)
    assert code == 2 and "needs an exported file" in err
