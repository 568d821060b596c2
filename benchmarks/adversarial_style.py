"""Adversarial style transfer on real art vs Gatys: is content kept better at a comparable style loss?

Trains ``adversarial_style`` (α·content + β·Gram style + λ·PatchGAN) on 128 px crops of the bench
photos (5 held out) and of a collection of impressionist / post-impressionist paintings from
../shared/data/bench/style, for a CPU time budget. Then, on the held-out photos at 256 px, it measures
for the generator and for Gatys (several style weights β, the collection's paintings blended as
styles) two numbers computed the same way for both:

- content error: relative VGG16 relu4_2 feature error to the photo (lower keeps more content);
- style error: relative Gram error on relu1_1..relu4_1 to the collection's mean Gram;

and three content measures that Gatys does not optimise (:mod:`stylefuse.metrics.content`): luminance
SSIM and Canny edge F1 to the photo (higher keeps more) and the LPIPS-like VGG distance (lower).

It also scores the built-in fast network with the collection's four styles blended (a well-trained
feed-forward generator, for reference). It prints every point and, for the Gatys run whose style error
is closest to the generator's, both sets of measures side by side; it also writes a contact sheet to
out/adversarial_style/sheet.png.

    python benchmarks/adversarial_style.py                 # ~20 minutes on 2 CPU cores
    python benchmarks/adversarial_style.py --minutes 0.5 --photos 1
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch
from torchvision.utils import make_grid

from stylefuse import hub
from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.losses import functional as LF
from stylefuse.methods.adversarial_style import AdversarialStyle, AdversarialStyleRecipe
from stylefuse.methods.gatys import GatysStylizer
from stylefuse.metrics.content import EdgeF1, LpipsVGG16Caffe, LuminanceSSIM

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, train_for_minutes  # noqa: E402

COLLECTION = ("vangogh_starry_night", "monet_water_lilies_1919", "seurat_sunday_grande_jatte",
              "turner_shipwreck_of_the_minotaur")
BUILTIN_COLLECTION_STYLES = ("starry-night", "water-lilies", "grande-jatte", "shipwreck")
"""The built-in styles trained on the collection's paintings."""
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
SIZE = 256


def prepare(work: Path) -> None:
    """Copy the training photos and the collection into folders the trainer reads."""
    (work / "photos").mkdir(parents=True, exist_ok=True)
    (work / "collection").mkdir(parents=True, exist_ok=True)
    for path in (BENCH / "content").glob("*.jpg"):
        if path.stem not in HELD_OUT:
            shutil.copy(path, work / "photos" / path.name)
    for name in COLLECTION:
        shutil.copy(BENCH / "style" / f"{name}.jpg", work / "collection" / f"{name}.jpg")


class Scorer:
    """Content and style errors measured identically for every method."""

    def __init__(self, collection: list[torch.Tensor]) -> None:
        self.encoder = MultiLayerEncoder(("relu4_2",) + STYLE_LAYERS)
        self.independent = {"ssim": LuminanceSSIM(), "edge_f1": EdgeF1(), "lpips": LpipsVGG16Caffe()}
        with torch.no_grad():
            grams = [{k: LF.gram_matrix(v) for k, v in self.encoder(ops.resize_long_side(s, SIZE)[None],
                                                                    STYLE_LAYERS).items()} for s in collection]
        self.target = {k: sum(g[k] for g in grams) / len(grams) for k in STYLE_LAYERS}

    @torch.no_grad()
    def __call__(self, output: torch.Tensor, photo: torch.Tensor) -> dict[str, float]:
        photo = ops.resize(photo, tuple(output.shape[-2:]))
        fo, fp = self.encoder(output[None]), self.encoder(photo[None], ["relu4_2"])
        content = LF.relative_content_loss(fo, fp).item()
        style = sum(LF.relative_gram_error(fo[k], t).item() for k, t in self.target.items())
        independent = {name: metric(output, photo, None) for name, metric in self.independent.items()}
        return {"content": content, "style": style / len(STYLE_LAYERS), **independent}


def mean_scores(scores: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(sum(s[k] for s in scores) / len(scores), 4) for k in scores[0]}


def builtin_blend_scores(scorer: Scorer, photos: list[torch.Tensor]) -> dict[str, float] | None:
    """Scores of the built-in fast network with its styles of the collection's paintings blended
    equally (None when this installation ships no built-in styles)."""
    from stylefuse.builtin import STYLES_FOLDER

    if not (STYLES_FOLDER / "config.json").is_file():
        return None
    model = hub.load(STYLES_FOLDER)
    return mean_scores([scorer(model.stylize(photo, BUILTIN_COLLECTION_STYLES), photo) for photo in photos])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=12.0, help="training time of the generator")
    parser.add_argument("--photos", type=int, default=3, help="held-out photos to compare on")
    parser.add_argument("--betas", type=float, nargs="+", default=[0.3, 1.0, 3.0], help="Gatys style weights")
    parser.add_argument("--gatys-steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--work", type=Path, default=Path("out/adversarial_style"))
    args = parser.parse_args()
    require_bench(args.threads)
    started = time.perf_counter()
    prepare(args.work)
    folders = {"data": args.work / "photos", "style": args.work / "collection"}
    folder, training = train_for_minutes(AdversarialStyle, AdversarialStyleRecipe(size=128), folders,
                                         args.work / "model", args.minutes)
    generator = hub.load(folder)

    collection = [read_image(BENCH / "style" / f"{name}.jpg").rgb for name in COLLECTION]
    scorer = Scorer(collection)
    photos = [ops.resize_long_side(read_image(BENCH / "content" / f"{name}.jpg").rgb, SIZE)
              for name in HELD_OUT[: args.photos]]
    gan_outputs = [generator.stylize(photo) for photo in photos]
    report = {"benchmark": "adversarial_style_vs_gatys", "collection": COLLECTION, "size": SIZE,
              "threads": torch.get_num_threads(), "training": training,
              "adversarial_style": mean_scores([scorer(o, p) for o, p in zip(gan_outputs, photos)]),
              "photo_itself": mean_scores([scorer(p, p) for p in photos]),
              "builtin_fast_blend": builtin_blend_scores(scorer, photos), "gatys": {}}
    gatys_outputs = {}
    for beta in args.betas:
        stylizer = GatysStylizer(size=SIZE, steps=args.gatys_steps, style_weight=beta,
                                 style_layers=STYLE_LAYERS)
        outputs = [stylizer.stylize(photo, collection) for photo in photos]
        gatys_outputs[beta] = outputs
        report["gatys"][str(beta)] = mean_scores([scorer(o, p) for o, p in zip(outputs, photos)])
        print(json.dumps({"beta": beta, **report["gatys"][str(beta)]}), file=sys.stderr)
    gan_style = report["adversarial_style"]["style"]
    closest = min(args.betas, key=lambda b: abs(report["gatys"][str(b)]["style"] - gan_style))
    report["comparable"] = {"gatys_beta": closest, "gatys": report["gatys"][str(closest)],
                            "adversarial_style": report["adversarial_style"]}
    cells = []  # photo | adversarial_style | Gatys, one row per photo, one cell size
    for index, photo in enumerate(photos):
        for image in (photo, gan_outputs[index], gatys_outputs[closest][index]):
            cells.append(ops.resize(image, (SIZE * 3 // 4, SIZE)))
    write_image(args.work / "sheet.png", make_grid(torch.stack(cells), nrow=3, padding=4, pad_value=1.0))
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
