"""Model folders: save and load (atomic, finite weights only), version and completeness checks, and
``hub.load`` dispatching on the recorded method."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from stylefuse import hub
from stylefuse.errors import OptionError
from stylefuse.hub import ModelFolderError, load_model, read_config, save_model
from stylefuse.methods.fast import FastStylizer
from stylefuse.registry import NETWORKS
from tests.helpers import save_style_model


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "model", channels=(4, 4, 4), blocks=1)


def test_weights_round_trip_in_half_precision(folder) -> None:
    network, document = hub.load_model(folder)
    assert document["network"] == "fast_stylizer" and document["format_version"] == hub.FORMAT_VERSION
    again = hub.save_model(network, folder.parent / "again", "fast_stylizer", document["config"],
                           extra={"method": "fast", "style_names": ["ink", "sun"]})
    reloaded, _ = hub.load_model(again)
    for (name, a), (_, b) in zip(network.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(a.half().float(), b), name


def test_load_dispatches_on_the_recorded_method(folder) -> None:
    stylizer = hub.load(folder, size=32)
    assert isinstance(stylizer, FastStylizer) and stylizer.size == 32
    with pytest.raises(OptionError, match="method fast does not take steps"):
        hub.load(folder, steps=3)
    with pytest.raises(OptionError, match="which GatysStylizer cannot load"):
        hub.load(folder, method="gatys")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("method"), "records no method"),
    (lambda d: d.update(format_version=99), "format version 99"),
    (lambda d: d.pop("network"), "lacks 'network'"),
])
def test_broken_configs_are_one_line_errors(folder, change, message) -> None:
    document = json.loads((folder / "config.json").read_text())
    change(document)
    (folder / "config.json").write_text(json.dumps(document))
    with pytest.raises(hub.ModelFolderError, match=message):
        hub.load(folder)


def test_missing_files_and_folders(tmp_path, folder) -> None:
    with pytest.raises(hub.ModelFolderError, match="is not a model folder"):
        hub.load(tmp_path / "nowhere")
    (folder / "model.safetensors").unlink()
    with pytest.raises(hub.ModelFolderError, match="model.safetensors is missing"):
        hub.load(folder)


def test_save_model_writes_a_new_folder_whole_and_keeps_other_files_of_an_existing_one(tmp_path: Path) -> None:
    layer = nn.Linear(2, 2)
    folder = save_model(layer, tmp_path / "new", "x", {"a": 1})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
    (folder / "checkpoint.pt").write_bytes(b"kept")
    save_model(layer, folder, "x", {"a": 2})
    assert (folder / "checkpoint.pt").read_bytes() == b"kept"
    assert read_config(folder)["config"] == {"a": 2}
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.pt", "config.json", "model.safetensors"]


def test_save_model_leaves_the_old_folder_intact_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    import safetensors.torch

    layer = nn.Linear(2, 2)
    folder = save_model(layer, tmp_path / "m", "x", {"a": 1})
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(tensors, path):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model(layer, folder, "x", {"a": 2})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    with pytest.raises(OSError, match="disk full"):
        save_model(layer, tmp_path / "fresh", "x", {"a": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_save_model_refuses_non_finite_weights_and_float16_overflow(tmp_path: Path) -> None:
    layer = nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight[0, 0] = float("nan")
    with pytest.raises(ModelFolderError, match="not finite .the training diverged"):
        save_model(layer, tmp_path / "nan", "x", {})
    with torch.no_grad():
        layer.weight[0, 0] = 1e6
    with pytest.raises(ModelFolderError, match="float16"):
        save_model(layer, tmp_path / "big", "x", {})
    assert not (tmp_path / "nan").exists() and not (tmp_path / "big").exists()
    save_model(layer, tmp_path / "full", "x", {}, half=False)
    assert (tmp_path / "full" / "model.safetensors").is_file()


def test_model_folder_errors(tmp_path) -> None:
    with pytest.raises(ModelFolderError, match="not a model folder"):
        read_config(tmp_path / "missing")
    folder = tmp_path / "m"
    save_model(NETWORKS.create("patch_discriminator", base=4), folder, "patch_discriminator", {"base": 4})
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelFolderError, match="not valid JSON"):
        read_config(folder)
    (folder / "config.json").write_text(json.dumps({"format_version": 99, "network": "x", "config": {}}))
    with pytest.raises(ModelFolderError, match="format version 99"):
        read_config(folder)
    (folder / "config.json").write_text(json.dumps({"format_version": 1, "network": "patch_discriminator",
                                                    "config": {"base": 8}}))
    with pytest.raises(ModelFolderError, match="does not fit"):
        load_model(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="model.safetensors is missing"):
        read_config(folder)
