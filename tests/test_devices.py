"""``--device``: auto resolves to the best device present, a device that is missing is one line and status 2,
and ``stylefuse info`` reports what there is."""

from __future__ import annotations

import pytest
import torch

from stylefuse import devices
from stylefuse.errors import OptionError
from tests.helpers import run_cli

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(devices, "_has_mps", lambda: mps)
    assert devices.resolve_device("auto") == expected


def test_named_devices_are_checked() -> None:
    assert devices.resolve_device("cpu") == "cpu"
    for name, message in [("banana", "is not a device"), ("xpu", "stylefuse runs on")]:
        with pytest.raises(OptionError, match=message):
            devices.resolve_device(name)


@NO_CUDA
def test_cuda_is_refused_without_a_gpu() -> None:
    for name in ("cuda", "cuda:1"):
        with pytest.raises(OptionError, match="no CUDA GPU is usable here"):
            devices.resolve_device(name)


@NO_CUDA
@pytest.mark.parametrize("args", [
    ["stylize", "photo.jpg", "-s", "udnie"],
    ["translate", "photo.jpg", "--model", "folder"],
    ["train", "fast", "--out", "run", "--data", "photos", "--style", "art.jpg"],
    ["personalize", "--images", "art.jpg", "--out", "run"],
    ["generate", "--model", "folder"],
    ["sheet", "photo.jpg"],
    ["eval", "--method", "adain", "--content", "c", "--style", "s", "--out", "o"],
    ["batch", "photos", "-o", "out", "-s", "udnie"],
    ["serve"],
    ["fuse-images", "a.jpg", "b.jpg", "--mode", "exposure", "-o", "out.jpg", "-s", "udnie"],
])
def test_every_network_command_refuses_a_missing_gpu_on_one_line(args, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli([*args, "--device", "cuda"], capsys, monkeypatch)
    assert code == 2
    assert err == "error: --device cuda: no CUDA GPU is usable here; use --device cpu (or auto)\n"


def test_info_reports_devices_and_runtimes(capsys, monkeypatch) -> None:
    code, out, _ = run_cli(["info"], capsys, monkeypatch)
    rows = dict(line.split(None, 1) if " " in line else (line, "") for line in out.splitlines())
    assert code == 0
    assert out.splitlines()[2].startswith("torch ") and torch.__version__ in out
    assert "device auto" in out and devices.resolve_device("auto") in out
    assert "mps" in rows and ("cuda" in rows or "cuda:0" in rows)
    if pytest.importorskip("onnxruntime"):
        assert "CPUExecutionProvider" in out
