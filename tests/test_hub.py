"""Model folders: save and load, version and completeness checks, and ``hub.load`` dispatching on the
recorded method."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from stylefuse import hub
from stylefuse.errors import OptionError
from stylefuse.methods.fast import FastStylizer
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
    stylizer = hub.load(folder, strength=0.5)
    assert isinstance(stylizer, FastStylizer) and stylizer.strength == 0.5
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
