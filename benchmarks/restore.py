"""Restoration against classical baselines, side by side in one run, on held-out photos.

Photos: the validation split of ../shared/data/train/photos (``--photos N`` of them) and the held-out bench
photos (``_common.HELD_OUT``), centre-cropped to ``--size`` px (sides multiples of 4); ``--sets`` can add the
four colour scikit-image photos (astronaut, chelsea, coffee, rocket) to compare with the figures in DESIGN.md.
Each photo is degraded by the benchmark's own seeded cases (``_restore_cases.py``: 8-bit inputs, one fixed
level per case), then restored by every baseline (``_restore_baselines.py``) and, when ``stylefuse.restore``
exists and has a model with the task, by the model (through the public API, with the 8-bit picture, the
mask and the known σ; for super-resolution the PIL-bicubic enlargement, which the API sharpens). Scores:

- denoise σ 15 / 25 / 50 and enhance (low light): PSNR (RGB) and SSIM (luma, Gaussian 11, σ 1.5);
- sr2 / sr4: PSNR of the studio-swing Y channel with a border of the scale factor cropped (the SRCNN
  convention), and RGB PSNR;
- inpaint (25 % / 50 % missing pixels, 9-px strokes): PSNR inside the holes (and over the whole image, where
  the known pixels count as exact, the convention of DESIGN.md's figures);
- style domains (sketch, cartoon, oil, pointillism): PSNR and VGG16 distance of the model's output to the
  procedural truth (``stylefuse.image.procedural``) against the identity baseline, as
  ``benchmarks/gan_pointillism.py`` measures them;
- every row: seconds for one 512x512 image, timed once per case on the first photo enlarged to 512 px (the
  model through ``stylefuse.restore``, so loading the model folder counts), after a warm-up on the crops;
  CBM3D's is its time on the crops scaled by the pixel count.

CBM3D takes tens of seconds per image, so it runs on the first ``--bm3d-photos`` photos of each set; its row
also gives non-local means on those same photos. Rows without a model say why (``"model": null``).
Prints JSON, saves it and a contact sheet (the first photo of the first set; JPEG beside the JSON) under
benchmarks/results/.

    python benchmarks/restore.py --photos 8 --size 256               # ~10 minutes on 2 CPU cores
    python benchmarks/restore.py --sets skimage --size 0 --tasks denoise --bm3d-photos 0
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.errors import StylefuseError
from stylefuse.image import ops
from stylefuse.image.io import read_image, to_pil
from stylefuse.image.procedural import DOMAINS
from stylefuse.metrics.content import masked_psnr, psnr, psnr_y, ssim

sys.path.insert(0, str(Path(__file__).parent))
import _restore_baselines as B  # noqa: E402
from _common import BENCH, HELD_OUT, require_bench, save_result, save_sheet  # noqa: E402
from _restore_cases import Case, make_cases, noisy  # noqa: E402
from gan_pointillism import evaluate as style_scores  # noqa: E402

TASKS = ("denoise", "sr2", "sr4", "inpaint", "enhance")
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
PIXELS_512 = 512 * 512


def centre_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The centre ``size`` x ``size`` square (or the whole image when size is 0), sides floored to multiples of 4."""
    height, width = image.shape[-2:]
    crop_h, crop_w = (min(size, height), min(size, width)) if size else (height, width)
    crop_h, crop_w = crop_h - crop_h % 4, crop_w - crop_w % 4
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return image[:, top:top + crop_h, left:left + crop_w].contiguous()


def load_sets(names: list[str], photos: int, size: int) -> dict[str, list[tuple[str, torch.Tensor]]]:
    """(name, clean crop) of each photo set."""
    sets = {}
    if "validation" in names:
        from stylefuse.data.splits import split

        files = split("photos").validation[:photos]
        sets["validation"] = [(path.stem, centre_crop(read_image(path).rgb, size)) for path in files]
    if "bench" in names:
        sets["bench"] = [(n, centre_crop(read_image(BENCH / "content" / f"{n}.jpg").rgb, size)) for n in HELD_OUT]
    if "skimage" in names:
        from skimage import data

        sets["skimage"] = [(n, centre_crop(torch.from_numpy(getattr(data, n)()[..., :3].copy()).permute(2, 0, 1)
                                           .float() / 255, size)) for n in SKIMAGE_PHOTOS]
    return sets


def model_runner(folder: str | None):
    """``run(case) -> (3, H, W)`` through ``stylefuse.restore``, or (None, why) when there is no such API."""
    import stylefuse

    restore = getattr(stylefuse, "restore", None)
    if restore is None:
        return None, "stylefuse.restore does not exist in this checkout"

    def run(case: Case) -> torch.Tensor:
        options = {"model": folder}
        if case.mask is not None:
            options["mask"] = Image.fromarray((case.mask[0].numpy() * 255).astype(np.uint8), "L")
        if case.level is not None:
            options["level"] = case.level
        # the API sharpens a picture already enlarged to the size wanted: give it the bicubic baseline's output
        source = B.bicubic(case) if case.factor else case.degraded
        output = read_image_from_pil(restore(to_pil(source), case.task, **options))
        if output.shape != case.clean.shape:
            raise ValueError(f"the model returned {tuple(output.shape)} for {case.task}, expected "
                             f"{tuple(case.clean.shape)}")
        return output

    return run, None


def read_image_from_pil(picture: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(picture.convert("RGB")).copy()).permute(2, 0, 1).float() / 255


def methods_for(task: str, opencv_h: dict[float, float]) -> dict[str, B.Baseline]:
    """The baselines of one task, by row name."""
    if task == "denoise":
        return {"noisy": B.identity, "skimage_nlm": B.skimage_nlm,
                "opencv_nlm": lambda case: B.opencv_nlm(case, opencv_h[case.level]), "cbm3d": B.cbm3d}
    if task.startswith("sr"):
        return {"bicubic": B.bicubic}
    if task == "inpaint":
        return {"biharmonic": B.biharmonic, "telea": B.telea}
    return {"dark": B.identity, "gamma": B.gamma_correction, "clahe": B.clahe}


def scores(case: Case, output: torch.Tensor) -> dict[str, float]:
    """The task's metrics of ``output`` against the clean photo."""
    out, clean = output[None].clamp(0, 1), case.clean[None]
    if case.task.startswith("sr"):
        return {"psnr_y": float(psnr_y(out, clean, case.factor)[0]), "psnr_rgb": float(psnr(out, clean)[0])}
    if case.task == "inpaint":
        return {"psnr_holes": float(masked_psnr(out, clean, case.mask[None])[0]),
                "psnr_whole": float(psnr(out, clean)[0])}
    return {"psnr": float(psnr(out, clean)[0]), "ssim": float(ssim(ops.luminance(out), ops.luminance(clean))[0])}


def timed(fn, case: Case) -> tuple[torch.Tensor, float]:
    """fn(case) and its seconds scaled to a 512x512-pixel image."""
    started = time.perf_counter()
    output = fn(case)
    seconds = time.perf_counter() - started
    return output, seconds * PIXELS_512 / case.clean[0].numel()


def seconds_at_512(clean: torch.Tensor, args, opencv_h, model, model_errors: dict) -> dict[tuple[str, str, str], float]:
    """Seconds of every method but CBM3D on each case of ``clean`` enlarged to 512x512, one run each."""
    seconds = {}
    for case in make_cases(ops.resize(clean, (512, 512)), seed=1, tasks=tuple(args.tasks)):
        methods = {k: v for k, v in methods_for(case.task, opencv_h).items() if k != "cbm3d"}
        if model is not None and case.task not in model_errors:
            methods["model"] = model
        for method, fn in methods.items():
            seconds[(case.task, case.setting, method)] = timed(fn, case)[1]
    return seconds


def summarise(rows: list[dict]) -> dict:
    """Mean of every score over photos, rounded."""
    keys = [k for k in rows[0] if k != "photo"]
    return {**{k: round(statistics.fmean(r[k] for r in rows), 4 if k == "ssim" else 2) for k in keys},
            "photos": len(rows)}


def run_set(photos: list[tuple[str, torch.Tensor]], set_index: int, args, opencv_h, model, model_errors: dict,
            sheet: list) -> dict:
    """Every case of every photo in one set -> {task: {setting: {method: summary}}}."""
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for index, (name, clean) in enumerate(photos):
        for case in make_cases(clean, seed=10_000 * set_index + 100 * index, tasks=tuple(args.tasks)):
            methods = dict(methods_for(case.task, opencv_h))
            if index >= args.bm3d_photos:
                methods.pop("cbm3d", None)
            if model is not None and case.task not in model_errors:
                methods["model"] = model
            outputs = {}
            for method, fn in methods.items():
                try:
                    output, seconds = timed(fn, case)
                except StylefuseError as error:  # the model lacks this task: its row says why
                    model_errors[case.task] = str(error)
                    continue
                outputs[method] = output
                timing = {"seconds_512": seconds} if method == "cbm3d" else {}  # the others: seconds_at_512
                rows.setdefault((case.task, case.setting, method), []).append(
                    {"photo": name, **scores(case, output), **timing})
                if method == "cbm3d":  # non-local means on the same photos, for a fair comparison
                    rows.setdefault((case.task, case.setting, "skimage_nlm_on_cbm3d_photos"), []).append(
                        rows[(case.task, case.setting, "skimage_nlm")][-1])
            if index == 0 and set_index == 0:
                degraded = case.degraded if case.mask is None else case.degraded + case.mask  # holes in white
                sheet.append([(f"{name[:16]} clean", clean), (f"{case.task} {case.setting}", degraded.clamp(0, 1)),
                              *((m, o) for m, o in outputs.items() if m not in ("noisy", "dark"))])
    result: dict = {}
    for (task, setting, method), method_rows in rows.items():
        result.setdefault(task, {}).setdefault(setting, {})[method] = summarise(method_rows)
    return result


def style_section(sets: dict, model, reason: str | None, encoder: MultiLayerEncoder, sheet: list) -> dict:
    """PSNR / VGG distance to each procedural domain's truth: identity, and the model when it has the domain."""
    section = {}
    for domain, fn in DOMAINS.items():
        photos = [clean for photos in sets.values() for _, clean in photos]
        truths = [fn(photo) for photo in photos]
        entry = {"identity": style_scores(photos, truths, encoder), "model": None}
        outputs = None
        if model is None:
            entry["model_reason"] = reason
        else:
            try:
                outputs = [model(Case(domain, domain, photo, photo)) for photo in photos]
                entry["model"] = style_scores(outputs, truths, encoder)
            except StylefuseError as error:
                entry["model_reason"] = str(error)
        section[domain] = entry
        sheet.append([("photo", photos[0]), (f"{domain} truth", truths[0])]
                     + ([("model", outputs[0])] if outputs else []))
    return section


def tune_opencv(size: int, sigmas) -> dict[float, float]:
    """OpenCV NLM's h per σ, chosen on six training photos spread over the list (never the test photos)."""
    from stylefuse.data.splits import split

    train = split("photos").train
    crops = [centre_crop(read_image(path).rgb, size or 256) for path in train[::max(1, len(train) // 6)][:6]]
    cases = [Case("denoise", f"sigma{s}", crop, noisy(crop, s, 7 + i), level=float(s))
             for i, crop in enumerate(crops) for s in sigmas]
    return B.tune_opencv_nlm(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="validation photos to use")
    parser.add_argument("--size", type=int, default=256, help="centre crop side in px; 0 = whole photos")
    parser.add_argument("--sets", default="validation,bench", help="comma-separated: validation, bench, skimage")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated: " + ", ".join(TASKS))
    parser.add_argument("--bm3d-photos", type=int, default=1, help="photos per set that CBM3D runs on (slow)")
    parser.add_argument("--model", default=None, help="model folder for stylefuse.restore (default: its own)")
    parser.add_argument("--no-model", action="store_true", help="baselines only")
    parser.add_argument("--no-style", action="store_true", help="skip the style-domain section")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / f"restore-{date.today()}.json")
    args = parser.parse_args()
    args.tasks = [t for t in args.tasks.split(",") if t]
    if unknown := set(args.tasks) - set(TASKS):
        parser.error(f"unknown tasks {sorted(unknown)}; choose from {', '.join(TASKS)}")
    require_bench(args.threads)
    cv2.setNumThreads(args.threads)
    started = time.perf_counter()
    sets = load_sets(args.sets.split(","), args.photos, args.size)
    model, reason = (None, "--no-model") if args.no_model else model_runner(args.model)
    opencv_h = tune_opencv(args.size, (15, 25, 50)) if "denoise" in args.tasks else {}
    if importlib.util.find_spec("bm3d") is None:  # an optional baseline: pip install 'stylefuse[bench]'
        args.bm3d_photos, bm3d_reason = 0, "the bm3d package is not installed"
    else:
        bm3d_reason = None
    model_errors: dict[str, str] = {}
    sheet: list[list] = []
    report = {"benchmark": "restore", "date": str(date.today()), "threads": args.threads, "size": args.size,
              "photos": {name: [n for n, _ in photos] for name, photos in sets.items()},
              "degradations": "the benchmark's own seeded cases (benchmarks/_restore_cases.py)",
              "model": {"folder": args.model or "stylefuse.restore's default"} if model else None,
              "model_reason": reason, "opencv_h_per_sigma": opencv_h, "bm3d_photos_per_set": args.bm3d_photos,
              "bm3d_reason": bm3d_reason}
    results = {name: run_set(photos, index, args, opencv_h, model, model_errors, sheet)
               for index, (name, photos) in enumerate(sets.items())}
    report["tasks"] = {task: {setting: {name: results[name][task][setting] for name in results}
                              for setting in next(iter(results.values()))[task]}
                       for task in args.tasks}
    seconds = seconds_at_512(next(iter(sets.values()))[0][1], args, opencv_h, model, model_errors)
    for task, settings in report["tasks"].items():  # rows without a model say so; the reason is given once, below
        for setting, by_set in settings.items():
            for rows in by_set.values():
                rows.setdefault("model", None)
                for method, row in rows.items():
                    if row is not None and (task, setting, method) in seconds:
                        row["seconds_512"] = round(seconds[(task, setting, method)], 3)
    report["model_missing_tasks"] = model_errors
    if not args.no_style:
        report["style"] = style_section(sets, model, reason, MultiLayerEncoder(["relu3_1", "relu4_1"]), sheet)
    columns = max(len(row) for row in sheet)
    cells = [cell for row in sheet for cell in row + [("", torch.ones(3, 8, 8))] * (columns - len(row))]
    report["sheet"] = save_sheet(args.out.with_suffix(".jpg"), cells, columns=columns, cell_size=128)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    save_result(report, args.out)


if __name__ == "__main__":
    main()
