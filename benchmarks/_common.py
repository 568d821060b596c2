"""What the benchmarks share: where the bench data is, the held-out photos, and training on a budget."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from stylefuse.methods._trainable import fit_and_export
from stylefuse.train.loop import TrainOptions

BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"
HELD_OUT = ("animal_cat_chelsea", "building_china_summer_palace", "landscape_forest_path", "object_colorful_cups",
            "portrait_grace_hopper")
"""Photos never trained on by any benchmark."""


def require_bench(threads: int = 2) -> None:
    """Exit with one clear line and status 2 when ../shared/data/bench is missing; pin the thread count."""
    if not BENCH.is_dir():
        print(f"error: {BENCH} not found; the benchmarks read ../shared/data/bench", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(threads)


def train_for_minutes(cls, recipe, folders: dict[str, Path], out: Path, minutes: float,
                      steps: int = 1_000_000) -> tuple[Path, dict]:
    """Train a registered GAN method with a wall-time budget (and at most ``steps`` steps; constant LR), as
    ``stylefuse train`` would; export the model folder to ``out`` and return it with the step count and
    seconds."""
    torch.manual_seed(0)
    task = cls(recipe)
    batches = task.make_batches(folders, seed=0)
    options = TrainOptions(steps=steps, decay_from=1.0, checkpoint_every=0, sample_every=0, progress=False,
                           max_seconds=minutes * 60, overwrite=True)
    summary = fit_and_export(task, batches, options, out)
    return out, {"steps": summary["steps"], "seconds": round(summary["seconds"], 1)}


class QualityLosses:
    """Content and style losses of a result, as the fast benchmarks report them: relative VGG16 feature
    error at relu3_3 to the photo, and relative Gram error at relu1_2..relu4_3 to the style image (the
    perceptual loss of Johnson et al. 2016, with the style image at the result's long side)."""

    CONTENT = ("relu3_3",)
    STYLE = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

    def __init__(self) -> None:
        from stylefuse.encoders.vgg import MultiLayerEncoder

        self.encoder = MultiLayerEncoder(self.CONTENT + self.STYLE)

    @torch.inference_mode()
    def __call__(self, result: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> dict[str, float]:
        """Losses of ``result`` (3, H, W) against ``content`` (3, H, W) and ``style`` (3, h, w), in [0, 1]."""
        from stylefuse.image import ops
        from stylefuse.losses import functional as LF

        got = self.encoder(result[None])
        want = self.encoder(ops.resize(content, tuple(result.shape[-2:]))[None], self.CONTENT)
        style_features = self.encoder(ops.resize_long_side(style, max(result.shape[-2:]))[None], self.STYLE)
        content_loss = LF.relative_content_loss(got, want)
        style_loss = sum(float(LF.relative_gram_error(got[k], LF.gram_matrix(v))[0]) for k, v in style_features.items())
        return {"content": round(float(content_loss), 4), "style": round(style_loss / len(style_features), 4)}


def median_seconds(fn, runs: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls after ``warmup`` calls."""
    import statistics
    import time

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def interleaved_medians(fns: dict, runs: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median wall time in seconds of each ``fns[name]()``, the calls interleaved round by round (after
    ``warmup`` rounds) so that every candidate sees the same machine load."""
    import statistics
    import time

    times: dict[str, list[float]] = {name: [] for name in fns}
    for round_ in range(warmup + runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def save_sheet(path: Path, cells: list, columns: int, cell_size: int = 256) -> str:
    """Write a contact sheet of (label, image) cells; return its path as text for the JSON."""
    from stylefuse.image.io import as_picture, write_image
    from stylefuse.image.sheet import contact_sheet

    write_image(path, as_picture(contact_sheet(cells, columns=columns, cell_size=cell_size)).rgb)
    return str(path)


def save_result(result: dict, out: Path) -> None:
    """Write the benchmark's JSON document to ``out`` and print it."""
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
