"""What a training recipe may ask for, checked before anything is allocated: the pixels of a step's batch and
of every image size, and the number of weights of the networks (counted on PyTorch's meta device, which holds
no memory). An option far past what a machine holds (``--size 100000``, ``--set base=1000000``,
``--set blocks=100000``) is then one clear line instead of an allocation failure, or a machine swapping.
"""

from __future__ import annotations

import warnings
from dataclasses import fields, is_dataclass
from typing import Any

import torch

from stylefuse.errors import OptionError
from stylefuse.image.io import DEFAULT_MAX_PIXELS

MAX_WEIGHTS = 250_000_000
"""The most weights the networks of one training run may have (fp32 with Adam: about 4 GB)."""
MAX_COUNT = 1024
"""The largest whole number a recipe option other than an image size may hold (blocks, widths, pool sizes), and
the longest list: far beyond any real network, and small enough to build on the meta device in seconds."""


def check_recipe_pixels(recipe: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse a recipe whose step batch (``size``² x ``batch_size``) or any other ``*_size`` image holds more
    than ``max_pixels`` pixels."""
    values = {f.name: getattr(recipe, f.name) for f in fields(recipe)} if is_dataclass(recipe) else {}
    batch = values.get("batch_size")
    batch = batch if isinstance(batch, int) and batch > 0 else 1
    for name, side in values.items():
        if name == "batch_size" or not (name == "size" or name.endswith("_size")) or not isinstance(side, int):
            continue
        pixels = side * side * (batch if name == "size" else 1)
        if pixels > max_pixels:
            what = f"--size {side} x --batch-size {batch}" if name == "size" else f"{name}={side}"
            raise OptionError(f"{what} is {pixels / 1e6:.0f} MP a step, over the limit of {max_pixels / 1e6:g} MP; "
                              "lower it")


def check_recipe_counts(recipe: Any, max_count: int = MAX_COUNT) -> None:
    """Refuse a whole number above ``max_count`` (or a list longer than it) in a recipe option other than an
    image size: a depth or width that large is a typo, and the meta build of :func:`check_network_size` would
    take minutes."""
    for f in fields(recipe) if is_dataclass(recipe) else ():
        value = getattr(recipe, f.name)
        if f.name == "batch_size" or f.name == "size" or f.name.endswith("_size"):
            continue
        numbers = value if isinstance(value, (list, tuple)) else [value]
        too_big = [v for v in numbers if isinstance(v, int) and not isinstance(v, bool) and v > max_count]
        if too_big or len(numbers) > max_count:
            raise OptionError(f"{f.name}={str(value)[:40]} is past the limit of {max_count}; lower it")


def check_network_size(build: Any, max_weights: int = MAX_WEIGHTS) -> None:
    """Build the task with ``build()`` on the meta device and refuse it when its generators and discriminators
    have more than ``max_weights`` weights. A build that fails on the meta device is left to the real one."""
    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loading real weights into meta ones (a no-op) warns
            probe = build()
    except (MemoryError, RecursionError):
        raise OptionError("the networks this recipe asks for are too large to build; make them smaller "
                          "(--set base=..., blocks=..., channels=...)") from None
    except Exception:  # noqa: BLE001 - not buildable without memory: the real build reports its own error
        return
    count = sum(p.numel() for name in ("generators", "discriminators")
                for p in getattr(getattr(probe, name, None), "parameters", lambda: [])())
    if count > max_weights:
        raise OptionError(f"the networks of this recipe have {count / 1e6:.0f} M weights, over the limit of "
                          f"{max_weights / 1e6:g} M; make them smaller (--set base=..., blocks=..., channels=...)")
