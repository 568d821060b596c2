"""Optional dependencies (the extras of pyproject.toml), imported when first needed: a missing one is a
one-line error that says which extra installs it."""

from __future__ import annotations

import importlib
from typing import Any

from stylefuse.errors import OptionError


def require(module: str, package: str, purpose: str, extra: str) -> Any:
    """The module ``module``, or an :class:`OptionError`: "<purpose> needs <package>: pip install
    'stylefuse[<extra>]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OptionError(f"{purpose} needs {package}: pip install 'stylefuse[{extra}]'") from None


def require_cv2(purpose: str = "fusing photos", extra: str = "fusion") -> Any:
    """OpenCV's ``cv2`` (the ``fusion`` and ``video`` extras both bring it)."""
    return require("cv2", "OpenCV", purpose, extra)
