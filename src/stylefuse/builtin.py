"""Where the shipped model folders are, readable without importing PyTorch (``stylefuse list`` stays cheap)."""

from __future__ import annotations

import json
from pathlib import Path

WEIGHTS_FOLDER = Path(__file__).resolve().parent / "weights"
STYLES_FOLDER = WEIGHTS_FOLDER / "styles"
"""The shipped multi-style model folder (the built-in styles)."""
INVERTERS_FOLDER = WEIGHTS_FOLDER / "inverters"
"""The shipped VGG16 inverters, one model folder per level."""


def builtin_style_names() -> list[str]:
    """Names of the built-in styles (empty when the package ships no style model)."""
    config = STYLES_FOLDER / "config.json"
    if not config.is_file():
        return []
    return list(json.loads(config.read_text()).get("style_names") or [])


def builtin_takes_paintings() -> bool:
    """True when the shipped multi-style network has a style predictor (it then stylizes with any painting)."""
    config = STYLES_FOLDER / "config.json"
    return config.is_file() and bool(json.loads(config.read_text()).get("config", {}).get("predictor"))
