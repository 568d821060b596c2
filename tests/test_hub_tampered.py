"""Tampered and foreign model folders: each is refused by ``hub.load`` and ``stylize --model`` on one line with
exit 2, before anything is unpickled or allocated; other files (``*.pt``) are ignored, never opened."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import struct
from pathlib import Path
from typing import Callable

import pytest
import torch
from safetensors.torch import load_file, save_file

from stylefuse import hub
from stylefuse.errors import StylefuseError
from stylefuse.image.io import write_image
from tests.helpers import save_style_model
from tests.test_cli import run_cli

SRC = Path(__file__).resolve().parents[1] / "src" / "stylefuse"


class Payload:
    """Unpickling this creates ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def _config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        document = json.loads((folder / "config.json").read_text())
        change(document)
        (folder / "config.json").write_text(json.dumps(document))
    return apply


def _weights(change: Callable[[dict, str], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        weights = load_file(str(folder / "model.safetensors"))
        change(weights, sorted(weights)[0])
        save_file(weights, str(folder / "model.safetensors"))
    return apply


def _pickled(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(pickle.dumps(Payload(folder.parent / "PWNED")))


def _torch_saved(folder: Path) -> None:
    torch.save({"weights": Payload(folder.parent / "PWNED")}, folder / "model.safetensors")


def _huge_tensor(folder: Path) -> None:
    """A header declaring a 10 GB tensor in a file of a few bytes."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [50_000, 50_000], "data_offsets": [0, 10_000_000_000]}})
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(16))


def _symlink(name: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        outside = folder.parent / f"outside-{name}"
        shutil.copy(folder / name, outside)
        (folder / name).unlink()
        (folder / name).symlink_to(outside)
    return apply


def _set(key: str, value) -> Callable[[dict], None]:
    return lambda document: document.__setitem__(key, value)


TAMPERED = {
    "pickle": (_pickled, "not a safetensors file"),
    "torch.save": (_torch_saved, "not a safetensors file"),
    "wrong shape": (_weights(lambda w, k: w.__setitem__(k, torch.zeros(3, 3, dtype=torch.float16))), "has shape"),
    "integer dtype": (_weights(lambda w, k: w.__setitem__(k, w[k].to(torch.int32))), "is I32"),
    "bool dtype": (_weights(lambda w, k: w.__setitem__(k, w[k] > 0)), "is BOOL"),
    "NaN weight": (_weights(lambda w, k: w[k].view(-1).__setitem__(0, float("nan"))), "NaN or infinite"),
    "missing tensor": (_weights(lambda w, k: w.pop(k)), "missing tensor"),
    "extra tensor": (_weights(lambda w, k: w.__setitem__("extra", torch.zeros(1))), "unexpected tensor 'extra'"),
    "future version": (_config(_set("format_version", 2)), "format version 2"),
    "unknown network": (_config(_set("network", "no_such_network")), "no_such_network"),
    "unknown method": (_config(_set("method", "no_such_method")), "unknown method 'no_such_method'"),
    "extra config key": (_config(lambda d: d["config"].__setitem__("extra", 1)), "unknown key 'extra'"),
    "missing config key": (_config(lambda d: d["config"].pop("num_styles")), "does not fit"),
    "config value of the wrong type": (_config(lambda d: d["config"].__setitem__("blocks", "many")), "does not fit"),
    "config not an object": (lambda folder: (folder / "config.json").write_text("[1]"), "not a JSON object"),
    "method entry of the wrong type": (_config(_set("style_names", 5)), "does not fit method fast"),
    "symlinked weights": (_symlink("model.safetensors"), "points outside its model folder"),
    "symlinked config": (_symlink("config.json"), "points outside its model folder"),
    "10 GB declared tensor": (_huge_tensor, "lies past the end of the file"),
    "empty weights": (lambda folder: (folder / "model.safetensors").write_bytes(b""), "not a safetensors file"),
}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return save_style_model(tmp_path_factory.mktemp("model") / "ok", channels=[4, 4, 4], blocks=1)


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_folders_are_refused(case, model, tmp_path, capsys, monkeypatch) -> None:
    tamper, expected = TAMPERED[case]
    folder = tmp_path / "model"
    shutil.copytree(model, folder)
    tamper(folder)
    with pytest.raises(StylefuseError, match=re.escape(expected)) as refused:
        hub.load(folder)
    assert "\n" not in str(refused.value)
    photo = write_image(tmp_path / "photo.png", torch.rand(3, 20, 24))
    code, _, err = run_cli(["stylize", photo, "--model", folder, "--style", "ink", "-o", tmp_path / "out.png"],
                           capsys, monkeypatch)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err
    assert not (tmp_path / "PWNED").exists()


def test_the_pickle_payload_is_real_and_never_runs(tmp_path) -> None:
    marker = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(Payload(marker)))  # noqa: S301 - the proof that the payload works
    assert marker.exists()
    marker.unlink()
    folder = save_style_model(tmp_path / "model", channels=[4, 4, 4], blocks=1)
    _pickled(folder)
    with pytest.raises(StylefuseError):
        hub.load(folder)
    assert not marker.exists()


def test_other_files_are_ignored_and_never_opened(model, tmp_path) -> None:
    """Decision: a ``.pt`` in a model folder is ignored, not refused: every training output folder holds its
    ``checkpoint.pt``; the hub opens only config.json and model.safetensors."""
    folder = tmp_path / "model"
    shutil.copytree(model, folder)
    (folder / "nested").mkdir()
    for path in (folder / "checkpoint.pt", folder / "best_generator.pt", folder / "nested" / "weights.pt"):
        torch.save({"weights": Payload(tmp_path / "PWNED")}, path)
    hub.load(folder)
    assert not (tmp_path / "PWNED").exists()


def test_every_torch_load_is_weights_only() -> None:
    calls = [(path.relative_to(SRC), line) for path in SRC.rglob("*.py")
             for line in path.read_text().splitlines() if re.search(r"torch\.load\(", line)
             and not line.lstrip().startswith(("#", '"', "``"))]
    assert calls, "no torch.load found: the pattern is stale"
    assert all("weights_only=True" in line for _, line in calls), calls
    assert not [p for p in SRC.rglob("*.py") if re.search(r"^\s*import pickle|pickle\.load", p.read_text(), re.M)]
