"""Helpers shared by several test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from stylefuse.hub import save_model
from stylefuse.nn.fast_stylizer import FastStylizerNet


def save_style_model(folder: Path, channels: Sequence[int], blocks: int, names: Sequence[str] = ("ink", "sun")) -> Path:
    """A multi-style model folder with distinct random (γ, β) per style (untrained convolutions)."""
    torch.manual_seed(0)
    config = dict(num_styles=len(names), channels=list(channels), blocks=blocks)
    network = FastStylizerNet(**config)
    with torch.no_grad():
        for parameter in network.style_parameters().values():
            parameter.add_(torch.randn_like(parameter))
    return save_model(network, folder, "fast_stylizer", config, extra={"method": "fast", "style_names": list(names)})
