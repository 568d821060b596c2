"""Train the fast network's style predictor on the training split of ../shared/data/train (maintainers' tool).

    # the shipped CPU run (one thread, resumable: run again with --resume to continue)
    OMP_NUM_THREADS=1 python scripts/train_fast_arbitrary.py --out runs/fast-arbitrary --steps 3000 \\
        --max-minutes 70 --validate-every 200 --set augmentations=2
    # the same recipe scaled up on a GPU: larger crops and batches, more views, the trunk trained too
    python scripts/train_fast_arbitrary.py --out runs/fast-arbitrary-gpu --device cuda --steps 40000 \\
        --size 256 --batch-size 8 --validate-every 1000 --set augmentations=16 --set train_trunk=true \\
        --set named_every=4

Photos and paintings come from :func:`stylefuse.data.splits.split` (the training split trains, the validation
split validates: held-out photos x held-out paintings, whole, at the predictor's style size); the 11 named
styles' paintings are read from ../shared/data/bench/style by the names recorded in the base folder. Prints
the validation loss before training and writes the model folder (the base's named styles + the predictor)
to --out; ``scripts/ship_weights.py styles OUT`` ships it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from stylefuse.data.splits import DEFAULT_ROOT, split
from stylefuse.methods._trainable import build_recipe, fit_and_export
from stylefuse.methods.fast_arbitrary import ArbitraryFast, ArbitraryRecipe
from stylefuse.train.loop import TrainOptions

BENCH_STYLES = DEFAULT_ROOT.parent / "bench" / "style"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the run's model folder")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--max-minutes", type=float, default=None, help="time budget (training time)")
    parser.add_argument("--size", type=int, default=128, help="photo crop size")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--lr", type=float, default=ArbitraryFast.default_lr)
    parser.add_argument("--set", action="append", default=[], help="recipe KEY=VALUE (see ArbitraryRecipe)")
    parser.add_argument("--validate-every", type=int, default=250)
    parser.add_argument("--validation-batches", type=int, default=12)
    parser.add_argument("--limit", type=int, default=0, help="use only this many images of each kind (a smoke test)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--change-recipe", action="store_true", help="with --resume: another --lr or --set")
    args = parser.parse_args()

    photos, paintings = split("photos"), split("paintings")
    limit = args.limit or None
    recipe = build_recipe(ArbitraryRecipe, {"size": args.size, "batch_size": args.batch_size}, args.set,
                          "fast-arbitrary")
    torch.manual_seed(args.seed)
    task = ArbitraryFast(recipe)
    named = [BENCH_STYLES / source for source in task.style_sources]
    folders = {"data": list(photos.train[:limit]), "style": list(paintings.train[:limit]),
               "validation_data": list(photos.validation[:limit]),
               "validation_style": list(paintings.validation[:limit]),
               "named": named if recipe.train_trunk and all(path.is_file() for path in named) else None,
               "targets_cache": args.out / "targets.pt"}
    started = time.time()
    batches = task.make_batches(folders, args.seed, report=print)
    print(f"targets of {len(task.features)} views in {time.time() - started:.0f} s", flush=True)
    validate = task.validator(batches, count=args.validation_batches)
    print(json.dumps({"validation_start": validate(task.generators["G"])}), flush=True)
    options = TrainOptions(steps=args.steps, lr=args.lr, betas=ArbitraryFast.default_betas, decay_from=0.7,
                           ema_decay=None, checkpoint_every=100, sample_every=500, validate_every=args.validate_every,
                           patience=0, seed=args.seed, device=args.device, progress=False,
                           max_seconds=args.max_minutes * 60 if args.max_minutes else None,
                           change_recipe=args.change_recipe)
    summary = fit_and_export(task, batches, options, args.out, validate=validate, resume=args.resume,
                             extra={"recipe_note": f"scripts/train_fast_arbitrary.py, {len(paintings.train[:limit])} "
                                    f"training paintings, {len(photos.train[:limit])} training photos"})
    print(json.dumps({key: summary.get(key) for key in ("state", "steps", "seconds", "best_metric")}), flush=True)


if __name__ == "__main__":
    main()
