"""Personalisation against training from scratch on the same data, with a larger budget for scratch.

For each of the 3 artworks the built-in model was not trained on, on the same threads (`--threads`):
- personalise: the built-in network plus one new style slot, training only the new style's tables
  ((γ, β), channel mixes, colour map: norm-only), started from the nearest built-in style or the style
  predictor's tables, whichever scores better (``Personalize.warm_start``; both scores are printed), with
  personalisation's defaults (``training_defaults``: L-BFGS on one
  fixed set of 4 crops, 2 of them for the first 8 steps);
- from scratch: the same architecture, every parameter trained from a random initialisation, with
  Adam at 1e-3 and 2 new photos per step (2 did better than 4 in the same time, docs/benchmarks.md);
the personalised run for ``--minutes``, the scratch run for ``--scratch-factor`` (5) times as long, of
training time plus set-up (an untimed set-up first loads what the process keeps, so no artwork pays for
it), on the bench photos minus the 5 held-out ones. Before training and every
``--every`` steps (personalised) or ``--scratch-every`` steps (scratch; its steps are cheaper and it
has 5 times the budget: about as many seconds between validations) both are validated on fixed 256 px
crops of the held-out photos (validation time is not counted): α·content + β·style, the training
objective. Prints, per artwork, the final content and style losses of both, the trained parameter
shares, and the time each run needed to first reach the personalised model's final validation loss
(within ``--tolerance``, 1% by default, the same rule for both runs: without a tolerance the
personalised run's own time would be its whole budget by definition; the crossing time is
interpolated linearly between the two validations around it); ratio = scratch time / personalised
time (target >= 5). A scratch run that never
reaches that loss counts as its whole budget, so the ratio is then a lower bound: "from scratch,
--scratch-factor times the time was not enough". The ratio depends on where the personalised run stops
(a short run has a higher loss, which scratch reaches sooner too), so it also prints the ratio had
the personalised run stopped at each of its validations. Also prints when the personalised run first reached
the scratch run's final loss. Writes a picture of both results on a held-out photo. Needs
../shared/data/bench.

    python benchmarks/personalize.py --minutes 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops, link_folder
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods.fast import FastRecipe, FastStyle
from stylefuse.methods.personalize import Personalize, personalize_recipe, training_defaults
from stylefuse.train.loop import Trainer, TrainOptions

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, save_sheet  # noqa: E402

ARTWORKS = ("klee_clouds_over_bor_1940", "vallotton_camille_mauclair_woodcut", "puck_caricature_lithograph_1890s")


def training_photos(folder: Path) -> Path:
    """A folder of links to the bench photos that are not held out."""
    photos = sorted((BENCH / "content").glob("*.jpg"))
    return link_folder(folder, [path for path in photos if path.stem not in HELD_OUT])


def held_out_batches(size: int, count: int = 5) -> list[torch.Tensor]:
    photos = ImageFolder(BENCH / "content", max_side=2 * size)
    keep = [i for i, path in enumerate(photos.paths) if path.stem in HELD_OUT]
    photos.paths, photos.images = [photos.paths[i] for i in keep], [photos.images[i] for i in keep]
    crops = UnpairedCrops([photos], size, batch_size=4, seed=123)
    return [crops(step)[0] for step in range(count)]


def run(task: FastStyle, photos: Path, artwork: Path, minutes: float, optimizer: str, lr: float, every: int,
        validation: list[torch.Tensor], out: Path) -> dict:
    """Train ``task`` for ``minutes`` of training time; return its validation curve
    ``[(seconds, loss), ...]`` (training time plus the set-up: reading the data, the style's Gram
    targets and, for personalisation, choosing the starting style) and final loss."""
    started = time.perf_counter()
    batches = task.make_batches({"data": photos, "style": [artwork]}, seed=0)
    setup = time.perf_counter() - started
    new_style = task.generators["G"].num_styles - 1
    indices = torch.full((validation[0].shape[0],), new_style)
    curve: list[tuple[float, float]] = []
    trainer: Trainer | None = None

    @torch.no_grad()
    def loss(generator) -> float:
        return sum(task.validation_metric((batch, indices), generator) for batch in validation) / len(validation)

    def validate(generator) -> float:
        seconds = setup + trainer.training_seconds()  # read first: the validation itself is not training
        value = loss(generator)
        curve.append((round(seconds, 1), round(value, 4)))
        return value

    options = TrainOptions(steps=1_000_000, lr=lr, betas=(0.9, 0.999), optimizer=optimizer, decay_from=1.0,
                           ema_decay=None,
                           checkpoint_every=0, sample_every=0, validate_every=every, progress=False,
                           max_seconds=max(minutes * 60 - setup, 1.0), overwrite=True)
    trainer = Trainer(task, batches, options, out, validate=validate)
    curve.append((round(setup, 1), round(loss(task.generators["G"]), 4)))
    summary = trainer.fit()
    curve.append((round(setup + summary["training_seconds"], 1), round(loss(task.generators["G"]), 4)))
    with torch.no_grad():
        terms = [task.perceptual_terms(batch, task.generators["G"](batch, nn.functional.one_hot(
            indices, new_style + 1).float()), indices) for batch in validation]
    content = sum(t["content"].item() for t in terms) / len(terms)
    style = sum(t["style"].item() for t in terms) / len(terms)
    return {"steps": summary["steps"], "setup_seconds": round(setup, 1), "curve": curve, "final": curve[-1][1],
            "content_loss": round(content, 4), "style_loss": round(style, 4)}


@torch.no_grad()
def render(network, photo: torch.Tensor) -> torch.Tensor:
    """``photo`` (3, H, W) in the network's last style."""
    style = torch.eye(network.num_styles)[-1]
    return ops.apply_padded(lambda x: network(x, style), photo[None], network.stride)[0]


def time_to_reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """Training seconds at which the validation curve first reaches ``target``, interpolated linearly
    between the validation before and the first one at or below it (None: never)."""
    for index, (seconds, value) in enumerate(curve):
        if value <= target:
            if index == 0:
                return seconds
            before_seconds, before_value = curve[index - 1]
            share = (before_value - target) / (before_value - value)
            return round(before_seconds + share * (seconds - before_seconds), 1)
    return None


def ratios_by_budget(personal: list[tuple[float, float]], scratch: list[tuple[float, float]],
                     tolerance: float) -> dict[str, float | None]:
    """The ratio had the personalised run stopped at each of its validations: {seconds: ratio}.
    Training runs at a constant learning rate, so a shorter run is the start of this one; the
    scratch run keeps its whole curve. None where scratch never reached that loss."""
    ratios = {}
    for end in range(1, len(personal)):
        target = personal[end][1] * (1 + tolerance)
        mine, theirs = time_to_reach(personal[: end + 1], target), time_to_reach(scratch, target)
        ratios[str(personal[end][0])] = round(theirs / mine, 2) if theirs is not None and mine else None
    return ratios


def warm_up(photos: Path, artwork: Path, size: int) -> None:
    """One untimed personalisation set-up, so that loading what the process keeps (VGG16's weights, the
    style predictor and its ONNX session) is not charged to the first artwork's set-up alone."""
    defaults = training_defaults("norm-only")
    Personalize(personalize_recipe(defaults, "norm-only", size, "new")).make_batches(
        {"data": photos, "style": [artwork]}, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--scratch-factor", type=float, default=5.0,
                        help="the scratch run's budget as a multiple of --minutes")
    parser.add_argument("--every", type=int, default=2, help="steps between validations (personalised)")
    parser.add_argument("--scratch-every", type=int, default=6, help="steps between validations (scratch)")
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="reaching a loss means coming within this fraction of it")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    parser.add_argument("--artworks", nargs="+", choices=ARTWORKS, default=list(ARTWORKS), metavar="NAME",
                        help="a subset of the three artworks")
    parser.add_argument("--work", type=Path, default=Path("out/bench_personalize"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/personalize-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    if args.threads:
        torch.set_num_threads(args.threads)
    photos = training_photos(args.work / "photos")
    validation = held_out_batches(256)
    result = {"benchmark": "personalize", "minutes_personalized": args.minutes,
              "minutes_scratch": args.minutes * args.scratch_factor, "threads": torch.get_num_threads(),
              "tolerance": args.tolerance, "personalized": training_defaults("norm-only")._asdict(),
              "scratch": {"optimizer": "adam", "lr": 1e-3, "batch_size": 2},
              "artworks": {}}
    warm_up(photos, BENCH / "style" / f"{args.artworks[0]}.jpg", args.size)
    cells = []
    probe = ops.resize_long_side(read_image(BENCH / "content" / f"{HELD_OUT[0]}.jpg").rgb, 256).clamp(0, 1)
    for artwork in args.artworks:
        path = BENCH / "style" / f"{artwork}.jpg"
        torch.manual_seed(0)
        defaults = training_defaults("norm-only")
        mine = Personalize(personalize_recipe(defaults, "norm-only", args.size, "new"))
        personal = run(mine, photos, path, args.minutes, defaults.optimizer, defaults.lr, args.every, validation,
                       args.work / "p" / artwork)
        torch.manual_seed(0)
        scratch_task = FastStyle(FastRecipe(size=args.size, batch_size=2, channels=mine.recipe.channels,
                                            blocks=mine.recipe.blocks),
                                 num_styles=1)
        scratch = run(scratch_task, photos, path, args.minutes * args.scratch_factor, "adam", 1e-3,
                      args.scratch_every, validation, args.work / "s" / artwork)
        target = personal["final"] * (1 + args.tolerance)
        reach_personal = time_to_reach(personal["curve"], target)
        reach_scratch = time_to_reach(scratch["curve"], target)
        scratch_seconds = reach_scratch if reach_scratch is not None else args.minutes * args.scratch_factor * 60
        result["artworks"][artwork] = {
            "target_loss": round(target, 4),
            "personalized": {"final_loss": round(personal["final"], 4), "steps": personal["steps"],
                             "setup_seconds": personal["setup_seconds"],
                             "content_loss": personal["content_loss"], "style_loss": personal["style_loss"],
                             "trained_parameters": mine.trained_parameters, "total_parameters": mine.total_parameters,
                             "trained_share": round(mine.trained_parameters / mine.total_parameters, 4),
                             "start_scores": {name: round(value, 4) for name, value in mine.start_scores.items()},
                             "seconds_to_target": reach_personal},
            "scratch": {"final_loss": round(scratch["final"], 4), "steps": scratch["steps"],
                        "setup_seconds": scratch["setup_seconds"],
                        "content_loss": scratch["content_loss"], "style_loss": scratch["style_loss"],
                        "seconds_to_target": reach_scratch, "reached": reach_scratch is not None},
            "ratio_scratch_over_personalized": (round(scratch_seconds / max(reach_personal, 1e-9), 2)
                                                if reach_personal else None),
            "ratio_is_lower_bound": reach_scratch is None,
            "personalized_seconds_to_scratch_final": time_to_reach(personal["curve"],
                                                                   scratch["final"] * (1 + args.tolerance)),
            "ratio_by_personalized_budget": ratios_by_budget(personal["curve"], scratch["curve"], args.tolerance),
            "curves": {"personalized": personal["curve"], "scratch": scratch["curve"]},
        }
        cells += [(artwork[:20], read_image(path).rgb), ("personalised", render(mine.generators["G"], probe)),
                  ("from scratch", render(scratch_task.generators["G"], probe))]
    result["sheet"] = save_sheet(args.work / "personalize.jpg", [("photo", probe)] + cells, columns=4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    summary = {k: {key: v[key] for key in ("personalized", "scratch", "ratio_scratch_over_personalized",
                                            "ratio_is_lower_bound", "personalized_seconds_to_scratch_final",
                                            "ratio_by_personalized_budget")}
               for k, v in result["artworks"].items()}
    print(json.dumps({**{k: v for k, v in result.items() if k != "artworks"}, "artworks": summary}, indent=2))


if __name__ == "__main__":
    main()
