"""Built-in model folders: their names are read from config.json without importing PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys

from stylefuse import builtin


def test_shipped_folders_exist_and_hold_model_folders() -> None:
    assert (builtin.STYLES_FOLDER / "config.json").is_file()
    assert (builtin.STYLES_FOLDER / "model.safetensors").is_file()
    for level in ("relu1_1", "relu2_1", "relu3_1", "relu4_1"):
        assert (builtin.INVERTERS_FOLDER / level / "config.json").is_file()


def test_style_names_are_those_of_the_shipped_config() -> None:
    names = builtin.builtin_style_names()
    config = json.loads((builtin.STYLES_FOLDER / "config.json").read_text())
    assert names == config["style_names"] and names and all(isinstance(name, str) for name in names)
    assert len(set(names)) == len(names)


def test_no_style_model_means_no_names(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(builtin, "STYLES_FOLDER", tmp_path / "missing")
    assert builtin.builtin_style_names() == []
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "config.json").write_text(json.dumps({"network": "fast_stylizer"}))
    monkeypatch.setattr(builtin, "STYLES_FOLDER", tmp_path / "bare")
    assert builtin.builtin_style_names() == []


def test_reading_the_names_does_not_import_torch() -> None:
    code = ("import sys; from stylefuse.builtin import builtin_style_names; builtin_style_names(); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
