"""Reconstruction quality of VGG16 inverters on held-out photos at 512 px: photo -> VGG16 features at the
level -> inverter -> image, PSNR (dB) and SSIM (luminance) per level and photo, on the 5 held-out bench photos
and on the first N photos of the training set's validation split (target: relu4_1 PSNR >= 20 dB). ``--compare
DIR`` measures a second inverter (a training run's model folder) beside the shipped one of its level, on the
same photos. Prints JSON; writes a picture of the reconstructions. Needs ../shared/data/bench (and
../shared/data/train for the validation photos).

    python benchmarks/inverters.py [--levels relu4_1] [--validation-photos 12] [--compare runs/inv4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

import torch

from stylefuse.data.splits import split
from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.hub import load_model
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods._feature_transfer import INVERTER_FOLDER
from stylefuse.metrics.content import psnr, ssim

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench, save_result, save_sheet  # noqa: E402

LEVELS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def held_out_photos(validation: int) -> dict[str, list[Path]]:
    """{set name: photo paths}: the bench's held-out photos and the first ``validation`` validation photos."""
    sets = {"bench": [BENCH / "content" / f"{name}.jpg" for name in HELD_OUT]}
    if validation:
        sets["validation"] = list(split("photos").validation)[:validation]
    return sets


def summarise(record: dict) -> dict:
    """Add the means to a {"psnr": {photo: dB}, "ssim": {photo: value}} record."""
    record["mean_psnr"] = round(statistics.mean(record["psnr"].values()), 2)
    record["mean_ssim"] = round(statistics.mean(record["ssim"].values()), 4)
    return record


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--levels", nargs="+", choices=LEVELS, default=list(LEVELS))
    parser.add_argument("--validation-photos", type=int, default=12, help="0: the bench photos only")
    parser.add_argument("--inverters", type=Path, default=INVERTER_FOLDER)
    parser.add_argument("--compare", type=Path, help="another inverter model folder, beside the one of its level")
    parser.add_argument("--sheet", type=Path, default=Path("out/bench_inverters/reconstructions.jpg"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/inverters-{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    models = {level: load_model(args.inverters / level)[0] for level in args.levels}
    if args.compare is not None:
        network, document = load_model(args.compare)
        models[f"{document['config']['level']} ({args.compare.name})"] = network
    level_of = {name: name.split()[0] for name in models}
    encoder = MultiLayerEncoder(sorted(set(level_of.values()), key=LEVELS.index))
    result: dict = {"benchmark": "inverters", "size": args.size, "models": {}}
    cells = []
    for set_name, paths in held_out_photos(args.validation_photos).items():
        for path in paths:
            photo = ops.resize_long_side(read_image(path).rgb, args.size).clamp(0, 1)
            photo = photo[:, : photo.shape[1] // 8 * 8, : photo.shape[2] // 8 * 8]
            features = encoder(photo[None])
            cells.append((path.stem[:20], photo))
            for name, model in models.items():
                image = model(features[level_of[name]]).clamp(0, 1)
                record = result["models"].setdefault(name, {}).setdefault(set_name, {"psnr": {}, "ssim": {}})
                record["psnr"][path.stem] = round(float(psnr(image, photo[None])[0]), 2)
                record["ssim"][path.stem] = round(float(ssim(ops.luminance(image), ops.luminance(photo[None]))[0]), 4)
                cells.append((name[:20], image[0]))
    for name, sets in result["models"].items():
        for record in sets.values():
            summarise(record)
        sets["parameters"] = sum(p.numel() for p in models[name].parameters())
    result["sheet"] = save_sheet(args.sheet, cells, columns=len(models) + 1)
    save_result(result, args.out)


if __name__ == "__main__":
    main()
