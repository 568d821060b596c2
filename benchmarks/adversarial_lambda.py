"""What the adversarial term buys (issue 22 §5): the same generator trained with λ = 0 and with λ > 0.

``adversarial_style`` (α·content + β·Gram style + λ·PatchGAN) is trained twice with the same seed, data,
recipe and number of steps, only λ differing, on crops of the training split's photos against one painter's
training paintings (van Gogh: the training split's largest collection by one artist). Then, on held-out photos
(the validation split) at 256 px, it measures what neither loss optimises:

- realism against the collection: patch KID and FID in the Inception network of ``stylefuse eval``
  (:func:`stylefuse.metrics.distribution.patch_fid_kid`; the collection's patches are the reference);
- content kept: the LPIPS-like VGG distance and luminance SSIM to the photo;
- and, for reference, the β term itself (relative Gram error to the collection's mean Gram).

A difference in realism means something only at matched content: the JSON gives both, and a contact sheet
(photo | λ = 0 | λ > 0) goes to ``--work``/sheet.png. Equal steps rather than equal seconds: the machine is
shared, and a λ > 0 step also trains the discriminator (its seconds are reported).

    python benchmarks/adversarial_lambda.py --steps 400            # ~30 min on 2 CPU cores
    python benchmarks/adversarial_lambda.py --steps 4 --photos 2 --size 64   # a smoke run
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date
from pathlib import Path

import torch
from torchvision.utils import make_grid

from stylefuse import hub
from stylefuse.data.folders import link_folder
from stylefuse.data.splits import DEFAULT_ROOT, split
from stylefuse.image import ops
from stylefuse.image.io import read_image, write_image
from stylefuse.methods.adversarial_style import AdversarialStyle, AdversarialStyleRecipe
from stylefuse.metrics.distribution import patch_fid_kid

sys.path.insert(0, str(Path(__file__).parent))
from _common import require_bench, save_result, train_for_minutes  # noqa: E402
from adversarial_style import Scorer, mean_scores  # noqa: E402

ARTIST = "Vincent van Gogh"
EVAL_SIZE = 256


def collection(artist: str) -> list[Path]:
    """The training split's paintings by ``artist``."""
    with open(DEFAULT_ROOT / "MANIFEST.tsv", newline="") as manifest:
        by_file = {row["file"]: row["artist"] for row in csv.DictReader(manifest, delimiter="\t")}
    return [path for path in split("paintings").train if by_file.get(f"paintings/{path.name}") == artist]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps of each generator")
    parser.add_argument("--lam", type=float, default=AdversarialStyleRecipe.lam, help="the λ > 0 run's weight")
    parser.add_argument("--size", type=int, default=96, help="training crop size")
    parser.add_argument("--photos", type=int, default=12, help="held-out photos to score")
    parser.add_argument("--train-photos", type=int, default=80, help="training photos used (the first N)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("out/adversarial_lambda"))
    parser.add_argument("--out", type=Path,
                        default=Path(f"benchmarks/results/adversarial_lambda-{date.today()}.json"))
    args = parser.parse_args()
    require_bench(args.threads)
    paintings = collection(ARTIST)
    folders = {"data": link_folder(args.work / "photos", split("photos").train[: args.train_photos]),
               "style": link_folder(args.work / "collection", paintings)}
    references = [ops.resize_long_side(read_image(path).rgb, EVAL_SIZE) for path in paintings]
    scorer = Scorer(references)
    photos = [ops.resize_long_side(read_image(path).rgb, EVAL_SIZE)
              for path in split("photos").validation[: args.photos]]
    report = {"benchmark": "adversarial_lambda", "date": str(date.today()), "collection": f"{ARTIST}, "
              f"{len(paintings)} training paintings", "photos": len(photos), "size": args.size,
              "eval_size": EVAL_SIZE, "steps": args.steps, "threads": torch.get_num_threads(), "runs": {}}
    outputs = {}
    for lam in (0.0, args.lam):
        recipe = AdversarialStyleRecipe(size=args.size, lam=lam)
        folder, training = train_for_minutes(AdversarialStyle, recipe, folders, args.work / f"lam-{lam:g}",
                                             minutes=1e6, steps=args.steps)
        generator = hub.load(folder)
        started = time.perf_counter()
        with torch.inference_mode():
            outputs[lam] = [generator.stylize(photo).clamp(0, 1) for photo in photos]
        seconds_per_image = (time.perf_counter() - started) / len(photos)
        realism = patch_fid_kid(outputs[lam], references)
        report["runs"][f"lam={lam:g}"] = {
            "training": training, "realism": {key: round(value, 5) for key, value in realism.items()},
            **mean_scores([scorer(output, photo) for output, photo in zip(outputs[lam], photos)]),
            "seconds_per_image": round(seconds_per_image, 3)}
        print(json.dumps({f"lam={lam:g}": report["runs"][f"lam={lam:g}"]}), file=sys.stderr)
    report["photo_itself"] = {"realism": {key: round(value, 5) for key, value in patch_fid_kid(photos, references)
                                          .items()}}
    cells = [ops.resize(image, (EVAL_SIZE * 3 // 4, EVAL_SIZE)) for index, photo in enumerate(photos[:4])
             for image in (photo, outputs[0.0][index], outputs[args.lam][index])]
    write_image(args.work / "sheet.png", make_grid(torch.stack(cells), nrow=3, padding=4, pad_value=1.0))
    save_result(report, args.out)


if __name__ == "__main__":
    main()
