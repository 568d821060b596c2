"""Every registered method runs on a tiny image: adding a method without fast test options fails here."""

from __future__ import annotations

import pytest
import torch

from stylefuse.methods._base import STYLE_IMAGES
from stylefuse.registry import METHODS, TRAINABLE

FAST_OPTIONS = {
    "gatys": dict(size=32, steps=2, levels=1, style_layers=("relu1_1",), content_layers=("relu1_1",)),
    "adain": dict(size=32),
    "wct": dict(size=32),
}


IMAGE_METHODS = [name for name in METHODS.names() if METHODS.get(name).style_input == STYLE_IMAGES]
"""Methods that take style images; the others run a trained model folder (tests/test_cli_train.py)."""


EXPORTED_FILES = {"onnx"}
"""Methods that run a file of `stylefuse export` (tests/frontends/test_export.py)."""


def test_every_method_has_fast_options_or_a_trained_folder() -> None:
    assert set(IMAGE_METHODS) == set(FAST_OPTIONS)
    trained = set(METHODS.names()) - set(IMAGE_METHODS) - EXPORTED_FILES
    fused = {"ensemble"}  # made by `stylefuse fuse` (tests/fusion/test_models.py)
    assert trained <= set(TRAINABLE.names()) | fused  # each is tested by training a tiny folder


@pytest.mark.parametrize("name", IMAGE_METHODS)
def test_method_runs(name: str, small_content, small_style) -> None:
    out = METHODS.create(name, **FAST_OPTIONS[name]).stylize(small_content, [small_style], [1.0])
    assert out.ndim == 3 and out.shape[0] == 3 and max(out.shape[1:]) == 32
    assert torch.isfinite(out).all() and 0 <= out.min() and out.max() <= 1
