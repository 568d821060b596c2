"""Shared fixtures: an isolated weights cache, tiny images, and the bench data when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "data" / "bench"
EXAMPLES = REPO / "examples"


def pytest_configure(config: pytest.Config) -> None:
    # Keep the user's cache untouched; extraction into a fresh cache takes well under a second.
    cache = Path(os.environ.get("PYTEST_STYLEFUSE_CACHE", REPO / ".pytest_cache" / "stylefuse-cache"))
    os.environ["STYLEFUSE_CACHE"] = str(cache)
    torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def bench() -> Path:
    """../shared/data/bench, or skip: a user's clone does not have it."""
    if not BENCH.is_dir():
        pytest.skip("../shared/data/bench is not present (only in the project's workspace)")
    return BENCH


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def small_content() -> torch.Tensor:
    """A smooth 48x64 test picture: gradients and a disc, (3, 48, 64) in [0, 1]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    disc = (((x - 0.6) ** 2 + (y - 0.5) ** 2) < 0.06).float()
    return torch.stack([x, y, 0.5 * disc + 0.25]).clamp(0, 1)


@pytest.fixture
def small_style() -> torch.Tensor:
    """Diagonal stripes, (3, 40, 40) in [0, 1]: a texture with a strong Gram signature."""
    y, x = torch.meshgrid(torch.arange(40.0), torch.arange(40.0), indexing="ij")
    stripes = (torch.sin((x + y) * 0.8) > 0).float()
    return torch.stack([stripes, 0.2 + 0.6 * (1 - stripes), 0.9 * stripes]).clamp(0, 1)
