"""Every registered method runs on a tiny image: adding a method without fast test options fails here."""

from __future__ import annotations

import pytest
import torch

from stylefuse.registry import METHODS

FAST_OPTIONS = {
    "gatys": dict(size=32, steps=2, levels=1, style_layers=("relu1_1",), content_layers=("relu1_1",)),
    "adain": dict(size=32),
    "wct": dict(size=32),
}


def test_every_method_has_fast_options() -> None:
    assert set(METHODS.names()) == set(FAST_OPTIONS)


@pytest.mark.parametrize("name", METHODS.names())
def test_method_runs(name: str, small_content, small_style) -> None:
    out = METHODS.create(name, **FAST_OPTIONS[name]).stylize(small_content, [small_style], [1.0])
    assert out.ndim == 3 and out.shape[0] == 3 and max(out.shape[1:]) == 32
    assert torch.isfinite(out).all() and 0 <= out.min() and out.max() <= 1
