"""Adapting the conditional model to a held-out task against training the same network from scratch.

The held-out task (``--task``) is ``impulse`` (salt-and-pepper noise, a noise the shipped model never saw),
``sr3`` (bicubic x3; the shipped model knows sr2 and sr4), or a procedural style, ``cartoon`` or ``oil`` (the
shipped model knows no style). On the same threads and the same on-the-fly pairs
from the training photos:
- adapt: the shipped model (``--base``) plus a new adapter of rank ``--rank`` (default: its source's) for the
  task, started as a copy of a related task's (:data:`HELD_OUT`), trunk frozen (``stylefuse adapt``'s
  :class:`~stylefuse.methods.conditional_adapt.Adapt`), for ``--minutes``;
- scratch: the same architecture (adapter at the base's rank) with the task as its only one, every
  parameter trained from a random initialisation, for ``--scratch-factor`` times as long;
both with Adam (adapt 3e-3, scratch 5e-4, each method's default), validated every ``--every`` steps on fixed
crops of validation photos (L1; validation time not counted). Prints the curves, the trained parameter
shares, the degraded input's loss, and the time each run first reached the scratch run's final loss; ratio =
scratch time / adapted time (target >= 5, with at most 5 % of the parameters trained). A scratch curve is
noisy, so its final loss is the minimum of its last three validations. With ``--full-minutes M`` a third run
fine-tunes every parameter of the base plus the new adapter (Adam 5e-4) for M minutes: how much the pretrained
trunk is worth when nothing is frozen.

With ``--pairs N`` both learn instead from N fixed pairs, each training photo degraded once and written to
``--out``/pairs/{a,b}, the way a user hands ``stylefuse adapt --a --b`` 5-20 pairs (the adapted run reads them
through :meth:`Adapt.make_batches`); without it, from fresh degradations of 40 photos at every step.

    python benchmarks/adapt.py --minutes 1 --scratch-factor 5 --threads 1
    python benchmarks/adapt.py --pairs 10 --minutes 1 --scratch-factor 10 --threads 1
    python benchmarks/adapt.py --minutes 0.5 --scratch-factor 6 --full-minutes 3 --threads 1
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import torch
import torch.nn.functional as F

from stylefuse.data.folders import ImageFolder, PairedCrops, step_generator
from stylefuse.data.splits import split
from stylefuse.image.io import write_image
from stylefuse.methods.conditional import Conditional, ConditionalRecipe, TaskCrops, degrade_for
from stylefuse.methods.conditional_adapt import Adapt, AdaptRecipe, PairBatches, trained_fraction
from stylefuse.restoration import SHIPPED_MODEL
from stylefuse.train.loop import Trainer, TrainOptions

sys.path.insert(0, str(Path(__file__).parent))
from _common import save_sheet  # noqa: E402

HELD_OUT = {"impulse": "denoise", "sr3": "sr2", "cartoon": "denoise", "oil": "denoise"}
"""Held-out tasks and the task whose adapter the new one starts from (the shipped model knows no style domain,
so ``cartoon`` and ``oil``, procedural styles that smooth, start from denoising)."""


class Relabelled:
    """Batches of a one-task :class:`TaskCrops` with their task ids set to ``task_id``."""

    def __init__(self, crops: TaskCrops, task_id: int) -> None:
        self.crops, self.task_id = crops, task_id

    def __call__(self, step: int):
        *parts, ids = self.crops(step)
        return (*parts, torch.full_like(ids, self.task_id))


def write_pairs(photos: ImageFolder, task: str, folder: Path) -> dict[str, Path]:
    """Each photo degraded once for ``task`` (seeded), written as ``folder/a/NAME.png`` (input) and
    ``folder/b/NAME.png`` (target), replacing the folder's earlier pairs; returns ``{"a": ..., "b": ...}``."""
    shutil.rmtree(folder, ignore_errors=True)
    generator = step_generator(0, -1)
    for index, image in enumerate(photos.images):
        degraded = degrade_for(task, image[None], generator)
        write_image(folder / "a" / f"pair{index:02d}.png", degraded.input[0])
        write_image(folder / "b" / f"pair{index:02d}.png", degraded.target[0])
    return {"a": folder / "a", "b": folder / "b"}


def run(task, batches, validation, minutes: float, lr: float, every: int, out: Path) -> list[tuple[float, float]]:
    """Train for ``minutes`` of training time; return ``[(seconds, validation L1), ...]`` from step 0."""
    network = task.generators["G"]
    task_id = batches.task_id
    curve: list[tuple[float, float]] = []

    @torch.no_grad()
    def validate(generator) -> float:
        loss = sum(F.l1_loss(generator(x, torch.full((x.shape[0],), task_id), None, None), y).item()
                   for x, y in validation) / len(validation)
        curve.append((trainer.training_seconds() if curve else 0.0, loss))
        return loss

    options = TrainOptions(steps=100_000, lr=lr, betas=(0.9, 0.999), checkpoint_every=0, sample_every=0,
                           log_every=0, validate_every=every, ema_decay=None, progress=False, decay_from=1.0,
                           max_seconds=minutes * 60, overwrite=True)
    trainer = Trainer(task, batches, options, out)
    validate(network)
    trainer.validate = validate
    trainer.fit()
    validate(network)
    return curve


def first_reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """Seconds at which ``curve`` first reaches ``target`` (linear between validations), None if never."""
    if curve and curve[0][1] <= target:
        return curve[0][0]
    for (t0, l0), (t1, l1) in zip(curve, curve[1:]):
        if l1 <= target:
            return t1 if l0 == l1 else t0 + (t1 - t0) * (l0 - target) / (l0 - l1)
    return None


def speedup(scratch_time: float | None, adapt_time: float | None, adapted: list[tuple[float, float]]) -> str | None:
    """scratch time / adapted time; when the new adapter beats the scratch run's final loss before any
    training (a copy of a related task's adapter), a lower bound from the adapted run's first validation."""
    if adapt_time is None or not scratch_time:
        return None
    if adapt_time == 0:
        return f">= {scratch_time / adapted[1][0]:.1f} (reached at step 0)"
    return f"{scratch_time / adapt_time:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--task", choices=sorted(HELD_OUT), default="impulse")
    parser.add_argument("--rank", type=int, default=None)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--scratch-factor", type=float, default=5.0)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=0, help="learn from this many fixed pairs (0: fresh "
                        "degradations of 40 photos every step)")
    parser.add_argument("--full-minutes", type=float, default=0.0,
                        help="also fine-tune every parameter of the base for this long (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("out/bench_adapt"))
    parser.add_argument("--results", type=Path,
                        default=Path(__file__).parent / "results" / f"adapt-{date.today()}.json")
    args = parser.parse_args()
    photos = split("photos")
    if not 0 <= args.pairs <= len(photos.train):
        parser.error(f"--pairs {args.pairs}: give 0 to {len(photos.train)} (the training photos)")
    if args.rank is not None and args.rank < 0 or min(args.minutes, args.scratch_factor, args.full_minutes) < 0:
        parser.error("--rank, --minutes, --scratch-factor and --full-minutes must be >= 0")
    torch.set_num_threads(args.threads)
    train = ImageFolder(list(photos.train[:args.pairs or 40]), max_side=256)
    held = ImageFolder(list(photos.validation[:8]), max_side=256)
    fixed = TaskCrops(held, [args.task], 96, 4, seed=7)
    validation = [fixed(-1 - i)[:2] for i in range(4)]
    input_loss = sum(F.l1_loss(x, y).item() for x, y in validation) / len(validation)

    def new_adapt() -> Adapt:
        torch.manual_seed(0)
        return Adapt(AdaptRecipe(base=str(args.base), task=args.task, like=HELD_OUT[args.task], rank=args.rank,
                                 size=args.size, batch_size=args.batch_size))

    adapt = new_adapt()
    adapt_id = adapt.generators["G"].tasks.index(args.task)
    if args.pairs:
        folders = write_pairs(train, args.task, args.out / "pairs")
        adapt_batches = adapt.make_batches(folders)
        scratch_batches = PairBatches(PairedCrops(*(ImageFolder(folders[side]) for side in "ab"), args.size,
                                                  args.batch_size), 0)
    else:
        crops = TaskCrops(train, [args.task], args.size, args.batch_size, seed=0)
        adapt_batches, scratch_batches = Relabelled(crops, adapt_id), Relabelled(crops, 0)
    started = time.perf_counter()
    adapted = run(adapt, adapt_batches, validation, args.minutes, Adapt.default_lr, args.every,
                  args.out / "adapt")
    adapt_wall = time.perf_counter() - started

    config = {key: value for key, value in adapt.network_config.items()
              if key not in ("tasks", "task_ranks")}
    torch.manual_seed(0)
    scratch = Conditional(ConditionalRecipe(tasks=[args.task], size=args.size, batch_size=args.batch_size,
                                            **config))
    scratch_curve = run(scratch, scratch_batches, validation, args.minutes * args.scratch_factor, 5e-4,
                        args.every, args.out / "scratch")
    full_curve = []
    if args.full_minutes:
        full = new_adapt()
        full.generators["G"].requires_grad_(True)
        full_curve = run(full, adapt_batches, validation, args.full_minutes, 5e-4, args.every, args.out / "full")
    target = min(loss for _, loss in scratch_curve[-3:])
    scratch_time = first_reach(scratch_curve, target)
    adapt_time = first_reach(adapted, target)
    trained, total = trained_fraction(adapt.generators["G"])
    scratch_params = sum(p.numel() for p in scratch.generators["G"].parameters())
    report = {
        "benchmark": "adapt", "date": str(date.today()), "task": args.task, "like": HELD_OUT[args.task],
        "base": str(args.base), "pairs": args.pairs or "fresh (40 photos)",
        "rank": adapt.generators["G"].task_ranks.get(args.task, adapt.generators["G"].rank),
        "threads": args.threads, "minutes": args.minutes, "scratch_minutes": args.minutes * args.scratch_factor,
        "input_l1": round(input_loss, 5), "adapt_trained_fraction": round(trained / total, 4),
        "adapt_trained": trained, "adapt_total": total, "scratch_trained": scratch_params,
        "scratch_final_l1": round(target, 5), "adapt_final_l1": round(adapted[-1][1], 5),
        "scratch_seconds_to_its_final": scratch_time, "adapt_seconds_to_scratch_final": adapt_time,
        "speedup": speedup(scratch_time, adapt_time, adapted),
        "adapt_wall_seconds": round(adapt_wall, 1),
        **({"full_minutes": args.full_minutes, "full_final_l1": round(full_curve[-1][1], 5),
            "full_seconds_to_scratch_final": first_reach(full_curve, target),
            "full_speedup": speedup(scratch_time, first_reach(full_curve, target), full_curve)}
           if full_curve else {}),
        "adapt_curve": [[round(t, 2), round(v, 5)] for t, v in adapted],
        "scratch_curve": [[round(t, 2), round(v, 5)] for t, v in scratch_curve],
        "full_curve": [[round(t, 2), round(v, 5)] for t, v in full_curve],
    }
    x, y = validation[0]
    with torch.no_grad():
        rows = [("input", x[0]),
                ("adapted", adapt.generators["G"](x[:1], adapt_id).clamp(0, 1)[0]),
                ("scratch", scratch.generators["G"](x[:1], 0).clamp(0, 1)[0]), ("truth", y[0])]
    args.out.mkdir(parents=True, exist_ok=True)
    report["sheet"] = save_sheet(args.out / "sheet.jpg", rows, columns=4)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if not k.endswith("curve")}, indent=2))


if __name__ == "__main__":
    main()
