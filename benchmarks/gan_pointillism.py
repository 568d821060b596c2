"""Proof that GAN training works on a CPU: learn a procedural pointillism filter.

Domain A: photos of ../shared/data/bench/content (5 held out); domain B: the same photos through
:func:`stylefuse.image.pointillism.pointillism`. CycleGAN trains on unpaired 128 px crops, pix2pix on
paired ones, each for a fixed CPU time budget, through the same code as ``stylefuse train``.
On the held-out photos it prints, for G(photo) and for the identity baseline (the photo itself), the
PSNR and a VGG16 feature distance (relative MSE on relu3_1 and relu4_1) to the true filter output.

The filter places its dots at random, so no generator can predict them: it also prints the scores
of a second draw of the filter (another seed), what a perfect sampler such as CycleGAN would score,
and of the mean of 12 draws, what a perfect mean predictor (pix2pix's L1 alone) would score. The
filter keeps that random part small against its deterministic one (see its module docstring), so both
ceilings lie well above the identity baseline. The feature distance uses relu3_1/relu4_1, where
textures of the same kind are close whatever their exact positions. A contact sheet (photo, filter,
CycleGAN, pix2pix) goes to WORK/sheet.png.

    python benchmarks/gan_pointillism.py                 # ~25 minutes on 2 CPU cores
    python benchmarks/gan_pointillism.py --minutes 0.5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from stylefuse import hub
from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.image.pointillism import pointillism
from stylefuse.losses import functional as LF
from stylefuse.metrics.content import psnr
from stylefuse.registry import TRAINABLE

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, save_sheet, train_for_minutes  # noqa: E402

WORK_SIDE = 256  # photos are scaled to this short side before filtering and training


def build_domains(work: Path) -> tuple[list[Path], list[Path]]:
    """Write A (photos) and B (filtered) folders for training, and the held-out pairs; return held-out paths."""
    held = []
    for path in sorted((BENCH / "content").glob("*.jpg")):
        photo = read_image(path).rgb
        scale = WORK_SIDE / min(photo.shape[-2:])
        photo = ops.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[2] * scale)))
        filtered = pointillism(photo, seed=len(held))
        split = "test" if path.stem in HELD_OUT else "train"
        write_image(work / split / "a" / f"{path.stem}.png", photo)
        write_image(work / split / "b" / f"{path.stem}.png", filtered)
        if split == "test":
            held.append(path.stem)
    return [work / "test" / "a" / f"{s}.png" for s in held], [work / "test" / "b" / f"{s}.png" for s in held]


def evaluate(outputs: list[torch.Tensor], targets: list[torch.Tensor], encoder: MultiLayerEncoder) -> dict:
    """Mean PSNR and VGG feature distance of ``outputs`` to ``targets``."""
    psnrs, distances = [], []
    for output, target in zip(outputs, targets):
        psnrs.append(float(psnr(output[None], target[None])[0]))
        with torch.no_grad():
            fo, ft = encoder(output[None]), encoder(target[None])
        distances.append(sum(float(LF.relative_squared_error(fo[k], ft[k])[0]) for k in ft) / len(ft))
    return {"psnr_db": round(sum(psnrs) / len(psnrs), 2), "vgg_distance": round(sum(distances) / len(distances), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=11.0, help="training time per method")
    parser.add_argument("--work", type=Path, default=Path("out/gan_pointillism"))
    parser.add_argument("--evaluate-only", action="store_true", help="reuse the model folders in --work")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    require_bench(args.threads)
    started = time.perf_counter()
    photos, truths = build_domains(args.work)  # deterministic: rebuilding gives the same files
    photos_t = [read_image(p).rgb for p in photos]
    truths_t = [read_image(p).rgb for p in truths]
    encoder = MultiLayerEncoder(["relu3_1", "relu4_1"])
    second_draws = [pointillism(photo, seed=100 + index) for index, photo in enumerate(photos_t)]
    mean_draws = [torch.stack([pointillism(photo, seed=1000 + draw) for draw in range(12)]).mean(0)
                  for photo in photos_t]
    minutes = None if args.evaluate_only else args.minutes
    report = {"benchmark": "gan_pointillism", "held_out": len(photos), "train_minutes_each": minutes,
              "threads": args.threads,
              "identity": evaluate(photos_t, truths_t, encoder),
              "second_draw_of_the_filter": evaluate(second_draws, truths_t, encoder),
              "mean_of_12_draws": evaluate(mean_draws, truths_t, encoder)}
    results = {}
    # Small networks, to fit the CPU budget; CycleGAN uses the U-Net generator, which learned the filter
    # faster than a ResNet one (docs/benchmarks.md)
    recipes = {"cyclegan": dict(generator="unet", base=16), "pix2pix": dict(depth=7, base=16, batch_size=4)}
    for method, overrides in recipes.items():
        cls = TRAINABLE.get(method)
        folders = {"a": args.work / "train" / "a", "b": args.work / "train" / "b"}
        folder = args.work / "models" / method
        if args.evaluate_only:
            training = {"steps": json.loads((folder / "config.json").read_text())["steps"]}
        else:
            folder, training = train_for_minutes(cls, cls.recipe_class(size=128, **overrides), folders, folder,
                                                 args.minutes)
        model = hub.load(folder)
        outputs = results[method] = [model.stylize(photo) for photo in photos_t]
        for photo_path, output in zip(photos, outputs):
            write_image(args.work / "results" / method / photo_path.name, output)
        report[method] = {**evaluate(outputs, truths_t, encoder), "training": training}
        print(json.dumps({method: report[method]}), file=sys.stderr)
    for method in recipes:
        report[method]["beats_identity_psnr"] = report[method]["psnr_db"] > report["identity"]["psnr_db"]
        report[method]["beats_identity_vgg"] = report[method]["vgg_distance"] < report["identity"]["vgg_distance"]
    labels = ["photo", "filter", *results]
    cells = [(label, image) for index, photo in enumerate(photos_t)
             for label, image in zip(labels, [photo, truths_t[index], *(out[index] for out in results.values())])]
    report["sheet"] = save_sheet(args.work / "sheet.png", cells, columns=len(labels), cell_size=192)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
