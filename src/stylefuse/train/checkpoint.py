"""Resumable training state, written atomically: module weights, optimiser states, EMA weights,
extra tensors (image pools), the step and every RNG state (the nanoGPT ``train.py`` pattern).

A checkpoint also records its format version and the recipe that trained it, so that resuming with other
options is refused (see :meth:`stylefuse.train.loop.Trainer.load`). Checkpoints are read with
``torch.load(weights_only=True)``: they hold only tensors and plain data, never pickled code.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylefuse.errors import StylefuseError
from stylefuse.fileutil import atomic_write

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_VERSION = 2
"""Version of the checkpoint layout; 2 added the recorded recipe and the format version itself."""


def rng_state() -> dict[str, Any]:
    """Every random number generator a training step may use."""
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_pos": random.getstate()[2], "numpy": np.random.get_state()[1].tolist(),
             "numpy_pos": int(np.random.get_state()[2])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def seed_all(seed: int) -> None:
    """Seed every generator :func:`rng_state` saves, so that two fresh runs (and their checkpoints) match."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), state["python_pos"]))
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"], 0, 0.0))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(folder: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors, dicts, lists, numbers, strings) to ``folder/checkpoint.pt`` atomically."""
    return atomic_write(Path(folder) / CHECKPOINT_FILE, lambda tmp: torch.save(state, tmp), durable=True)


def load_checkpoint(folder: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear error if it is missing or damaged."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        raise StylefuseError(f"cannot resume: {path} does not exist; start without --resume")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged file
        raise StylefuseError(f"cannot resume: {path} is damaged ({type(exc).__name__}); "
                             "delete it to start again") from None
