"""What the benchmarks share: where the bench data is, the held-out photos, and training on a budget."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylefuse.train.loop import Trainer, TrainOptions

BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"
HELD_OUT = ("animal_cat_chelsea", "building_china_summer_palace", "landscape_forest_path", "object_colorful_cups",
            "portrait_grace_hopper")
"""Photos never trained on by any benchmark."""


def require_bench(threads: int = 2) -> None:
    """Exit with a clear message when ../shared/data/bench is missing; pin the thread count."""
    if not BENCH.is_dir():
        sys.exit(f"error: {BENCH} not found; the benchmarks read ../shared/data/bench")
    torch.set_num_threads(threads)


def train_for_minutes(cls, recipe, folders: dict[str, Path], out: Path, minutes: float) -> tuple[Path, dict]:
    """Train a registered GAN method with a wall-time budget (constant LR), as ``stylefuse train``
    would; export the model folder to ``out`` and return it with the step count and seconds."""
    torch.manual_seed(0)
    task = cls(recipe)
    batches = cls.make_batches(recipe, folders, seed=0)
    options = TrainOptions(steps=1_000_000, decay_from=1.0, checkpoint_every=0, sample_every=0, progress=False,
                           max_seconds=minutes * 60)
    trainer = Trainer(task, batches, options, out)
    summary = trainer.fit()
    task.export(trainer, out)
    return out, {"steps": summary["steps"], "seconds": round(summary["seconds"], 1)}
