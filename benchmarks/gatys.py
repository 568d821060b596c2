"""How much faster stylefuse's default Gatys reaches the loss of the textbook loop.

Baseline: the textbook single-scale L-BFGS loop (as in the PyTorch neural-style tutorial: start from
the content image, clamp the pixels inside the closure, L-BFGS with its default settings) at full
size, written here, with the same encoder, layers, weights and loss as stylefuse. It runs
``--iters`` loss evaluations; its best total loss is the target.

stylefuse: ``GatysStylizer`` with its default options at the same size, timed from the start until
the loss of its full-size image first reaches the target (coarse pyramid levels count in its time).

Prints one JSON document: per pair, both losses, both times and ratio = stylefuse time / baseline
time (target <= 0.33), and the mean ratio. Needs ../shared/data/bench.

    python benchmarks/gatys.py                   # 3 pairs, 384 px, 200 iterations (~20 min on 2 cores)
    python benchmarks/gatys.py --pairs 1 --size 192 --iters 60   # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from stylefuse.encoders.vgg import ENCODER_ID, load_vgg16_weights
from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.methods.gatys import GatysStylizer, StepReport

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, require_bench  # noqa: E402

PAIRS = [("animal_cat_chelsea", "vangogh_starry_night"),
         ("building_china_summer_palace", "hokusai_great_wave"),
         ("portrait_astronaut_eileen_collins", "kandinsky_composition_vii")]


class TargetReached(Exception):
    """Raised from the callback to stop stylefuse once it reaches the baseline's loss."""


def textbook_lbfgs(content: torch.Tensor, style: torch.Tensor, size: int, iters: int,
                   record: Callable[[int, torch.Tensor], None] | None = None) -> tuple[float, float]:
    """The single-scale loop: ``iters`` L-BFGS loss evaluations at full size, pixels clamped to [0, 1]
    in the closure. ``record(evaluation, image)`` (1, 3, H, W), if given, sees every evaluated image.
    Returns (best total loss, seconds)."""
    started = time.perf_counter()
    height, width = ops.size_for_long_side(*content.shape[-2:], size)
    target = ops.resize(content, (height, width))[None]
    loss = GatysStylizer(size=size).loss  # the same layers and weights as stylefuse's default
    loss.set_content(target)
    loss.set_style([ops.resize_long_side(style, size)[None]])
    image = target.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image], max_iter=iters, max_eval=iters)  # exactly `iters` evaluations
    state = {"evals": 0, "best": float("inf")}

    def closure() -> torch.Tensor:
        with torch.no_grad():
            image.clamp_(0, 1)
        optimizer.zero_grad()
        total = loss(image).total
        total.backward()
        state["evals"] += 1
        state["best"] = min(state["best"], total.item())
        if record is not None:
            record(state["evals"], image.detach())
        return total

    optimizer.step(closure)
    return state["best"], time.perf_counter() - started


def stylefuse_time_to(content: torch.Tensor, style: torch.Tensor, size: int, target: float,
                      max_steps: int) -> dict:
    """Run the default GatysStylizer until its full-size loss reaches ``target``."""
    history: list[tuple[float, float]] = []
    last = {}
    started = time.perf_counter()

    def watch(report: StepReport) -> None:
        if report.level == report.levels - 1:
            total = float(report.terms.total)
            history.append((time.perf_counter() - started, total))
            last["image"] = report.image
            if total <= target:
                raise TargetReached

    default = GatysStylizer(size=size)
    # Default options; only the full-size step cap is raised so that the target can be reached.
    stylizer = GatysStylizer(size=size, steps=max_steps, coarse_steps=default.coarse_steps, callback=watch)
    reached = True
    try:
        stylizer.stylize(content, [style])
        reached = False
    except TargetReached:
        pass
    seconds = history[-1][0] if history else float("inf")
    steps_at_full_size = len(history)
    return {"seconds": seconds, "reached": reached, "loss": history[-1][1] if history else None,
            "full_size_steps": steps_at_full_size,
            "within_default_steps": reached and steps_at_full_size <= default.steps,
            "image": last.get("image")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--save", type=Path, default=None, help="folder for the stylefuse results")
    args = parser.parse_args()
    require_bench()
    started = time.perf_counter()
    load_vgg16_weights.cache_clear()
    load_vgg16_weights()
    cache_load = time.perf_counter() - started
    results = []
    for content_name, style_name in PAIRS[: args.pairs]:
        content = read_image(BENCH / "content" / f"{content_name}.jpg").rgb
        style = read_image(BENCH / "style" / f"{style_name}.jpg").rgb
        baseline_loss, baseline_seconds = textbook_lbfgs(content, style, args.size, args.iters)
        ours = stylefuse_time_to(content, style, args.size, baseline_loss, max_steps=2 * args.iters)
        image = ours.pop("image")
        if args.save:
            write_image(args.save / f"{content_name}--{style_name}.png", image[0])
        results.append({"content": content_name, "style": style_name,
                        "baseline": {"loss": baseline_loss, "seconds": round(baseline_seconds, 2)},
                        "stylefuse": {**ours, "seconds": round(ours["seconds"], 2)},
                        "ratio": round(ours["seconds"] / baseline_seconds, 3)})
        print(json.dumps(results[-1]), file=sys.stderr)
    ratios = [r["ratio"] for r in results]
    print(json.dumps({
        "benchmark": "gatys_time_to_baseline_loss", "size": args.size, "baseline_iters": args.iters,
        "encoder": ENCODER_ID, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": platform.machine(), "vgg_weights_load_s": round(cache_load, 3),
        "pairs": results, "mean_ratio": round(sum(ratios) / len(ratios), 3), "target_ratio": 0.33,
        "total_seconds": round(time.perf_counter() - started, 1)}, indent=2))


if __name__ == "__main__":
    main()
