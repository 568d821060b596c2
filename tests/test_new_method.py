"""A new method is one file and a decorator: a toy method registered here runs through the CLI, the API
and ``hub.load`` without any other file knowing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest
import torch

import stylefuse
from stylefuse import hub
from stylefuse.image.io import read_image, write_image
from stylefuse.methods._base import Stylizer
from stylefuse.registry import METHODS
from tests.helpers import run_cli


class Posterize(Stylizer):
    """Toy method: quantise the content to ``levels`` grey levels per channel, tinted by the style's mean.

    Args:
        levels: grey levels per channel (>= 2).
        tint: how much of the style's mean colour to add, 0..1.
    """

    def __init__(self, levels: int = 4, tint: float = 0.0) -> None:
        self.levels, self.tint = levels, tint

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> Posterize:
        return cls(**{**document["config"], **options})

    def stylize(self, content: torch.Tensor, styles: Sequence[torch.Tensor],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        out = torch.round(content * (self.levels - 1)) / (self.levels - 1)
        return (out + self.tint * styles[0].mean(dim=(1, 2), keepdim=True)).clamp(0, 1)


@pytest.fixture(scope="module", autouse=True)
def registered():
    METHODS.register("posterize-toy")(Posterize)
    yield
    METHODS._entries.pop("posterize-toy")


@pytest.fixture
def files(tmp_path: Path, small_content, small_style) -> dict[str, Path]:
    return {"content": write_image(tmp_path / "c.png", small_content),
            "style": write_image(tmp_path / "s.png", small_style)}


def test_toy_method_through_the_cli_with_typed_set(files, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out.png"
    code, stdout, err = run_cli(["stylize", files["content"], "-s", files["style"], "--method", "posterize-toy",
                                 "--set", "levels=2", "-o", out], capsys, monkeypatch)
    assert code == 0, err
    assert set(read_image(out).rgb.unique().tolist()) <= {0.0, 1.0}
    code, stdout, _ = run_cli(["list"], capsys, monkeypatch)
    assert "posterize-toy" in stdout and "Toy method: quantise" in stdout
    for bad, message in [("levels=two", "--set levels: 'two' is not a valid int"),
                         ("colour=1", "--set takes KEY=VALUE with KEY one of levels, tint"),
                         ("levels", "--set takes KEY=VALUE")]:
        code, _, err = run_cli(["stylize", files["content"], "-s", files["style"], "--method", "posterize-toy",
                                "--set", bad, "-o", out], capsys, monkeypatch)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["stylize", files["content"], "-s", files["style"], "--method", "posterize-toy",
                            "--steps", "3", "-o", out], capsys, monkeypatch)
    assert code == 2 and "method posterize-toy does not take steps" in err


def test_toy_method_strength_blends_with_the_content(files, small_content) -> None:
    full = stylefuse.stylize(files["content"], str(files["style"]), method="posterize-toy", levels=2)
    none = stylefuse.stylize(files["content"], str(files["style"]), method="posterize-toy", levels=2, strength=0.0)
    unchanged = torch.from_numpy(np.asarray(none, dtype=np.float32) / 255).permute(2, 0, 1)
    assert torch.allclose(unchanged, read_image(files["content"]).rgb, atol=1 / 255)
    assert full.size == none.size and full != none


def test_toy_model_folder_loads_through_the_hub_and_the_cli(files, tmp_path, capsys, monkeypatch) -> None:
    folder = tmp_path / "toy-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "config.json").write_text(json.dumps({"format_version": 1, "network": "none", "config": {"levels": 2},
                                                    "method": "posterize-toy"}))
    stylizer = hub.load(folder, tint=0.5)
    assert isinstance(stylizer, Posterize) and (stylizer.levels, stylizer.tint) == (2, 0.5)
    out = tmp_path / "out.png"
    code, _, err = run_cli(["stylize", files["content"], "-s", files["style"], "--model", folder, "-o", out],
                           capsys, monkeypatch)
    assert code == 0, err
    assert set(read_image(out).rgb.unique().tolist()) <= {0.0, 1.0}
