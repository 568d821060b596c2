"""Fusion: model interpolation against output blending, panoramas, exposure fusion and focus stacking.

- Interpolation: the built-in model personalised (norm-only, ``--steps`` L-BFGS steps at 128 px) to two
  artworks gives two siblings; along weights 0, 0.25, ..., 1 their network interpolation (``fuse --mode
  interpolate``) and the blend of their outputs at the same weight are scored on held-out photos at
  ``--size`` px: content error to the photo and style (relative Gram) error to each artwork
  (``_common.QualityLosses``).
- Panorama: 3 views with 30% and 40% overlap, each turned by up to 2 degrees and with a few pixels of perspective
  jitter, cut from wide photos, stitched back (``fuse-images --mode panorama``); the panorama is registered
  onto the original (ORB + RANSAC homography) and PSNR and SSIM (windows centred in the covered area) are taken
  over the area it covers.
- Exposure: two brackets (-1.5 and +1 EV in linear light, gamma 2.2) of held-out photos, one shifted by
  3 px; PSNR of the fusion and of the best bracket against the photo.
- Focus: three shots, each sharp in one horizontal band and blurred (Gaussian, sigma 3) elsewhere; PSNR of
  the stack and of the best shot against the photo.

- Gate (``--gate``): a gate over frozen built-in styles (``stylefuse train gate``) trained for ``--gate-minutes``
  on 128 px crops of the training split of ../shared/data/train/photos; on ``--gate-photos`` photos of the
  validation split at ``--gate-size`` px, the training objective (α·content + β·style against the members'
  mean Gram) of the gate, each member and their uniform blend, and every registered eval metric (style
  metrics against each member's painting, averaged); a sheet with the gate maps (argmax colours).

- Stitching at 20-40% overlap (``--stitch``): the panorama scores and seconds at overlaps 0.2, 0.25, 0.3, 0.4 of
  every ``--stitch-mode`` side by side (:data:`STITCH_VARIANTS`: the SIFT homography chain, its affine
  variant, OpenCV's stitcher at match confidence 1.0 and 0.3); a sheet of the default mode's panoramas.
- Thumbnail instance norm (``--thumbnail``): a ``--panorama-width``-px-wide panorama (the wide held-out photos
  side by side at 0.3 of that height) stylized with a built-in style by the fast network (PyTorch) four ways,
  each in a fresh process for its peak memory: in 2048-px tiles with thumbnail instance norm (the default
  above 2048 px), in tiles each with its own statistics, in one pass, and in one pass at a quarter of the width.
  Seam score: the mean colour gradient magnitude of the result blurred by a Gaussian (sigma 10 px: tone
  changes stay, strokes go) within 20 px of the bands where tiles overlap, divided by that elsewhere (about 1:
  no seam; a single pass is scored at the same bands).

Writes a contact sheet and prints JSON. Needs ../shared/data/bench (and ../shared/data/train for ``--gate``).

    python benchmarks/fusion.py --steps 10
    python benchmarks/fusion.py --gate --gate-minutes 10
    python benchmarks/fusion.py --thumbnail --panorama-width 8000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import torch

from stylefuse import hub
from stylefuse.fusion.images import fuse_images
from stylefuse.fusion.models import fuse_models
from stylefuse.image import ops
from stylefuse.image.io import read_image
from stylefuse.methods.personalize import personalize_model
from stylefuse.metrics.content import psnr, ssim
from stylefuse.registry import METRICS

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, QualityLosses, require_bench, save_result, save_sheet  # noqa: E402

ARTWORKS = ("klee_clouds_over_bor_1940", "vallotton_camille_mauclair_woodcut")
WIDE = ("landscape_forest_path", "object_colorful_cups", "landscape_jetty_lake")
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
RESULTS = Path(__file__).resolve().parent / "results"
OVERLAPS = (0.3, 0.4)
STITCH_VARIANTS = {"panorama (SIFT homography chain)": {}, "scans (SIFT affine chain)": {"stitch_mode": "scans"},
                   "spherical (OpenCV stitcher), confidence 1": {"stitch_mode": "spherical"},
                   "spherical (OpenCV stitcher), confidence 0.3": {"stitch_mode": "spherical", "confidence": 0.3}}
"""Row name -> ``fuse_images`` options of the ``--stitch`` section."""


def photo(name: str, size: int) -> torch.Tensor:
    return ops.resize_long_side(read_image(BENCH / "content" / f"{name}.jpg").rgb, size).clamp(0, 1)


def interpolation(work: Path, steps: int, size: int, photos: int) -> tuple[dict, list]:
    """Content and style errors along the weights, network interpolation next to output blending."""
    siblings = []
    for artwork in ARTWORKS:
        folder = work / artwork
        personalize_model([BENCH / "style" / f"{artwork}.jpg"], folder, name=artwork.split("_")[0], steps=steps,
                          size=128, validate_every=0, progress=False, report=lambda _: None, overwrite=True)
        siblings.append(folder)
    styles = [read_image(BENCH / "style" / f"{artwork}.jpg").rgb for artwork in ARTWORKS]
    losses = QualityLosses()
    ends = [hub.load(folder) for folder in siblings]
    rows, cells = [], []
    for weight in WEIGHTS:
        fused = hub.load(fuse_models(siblings, work / f"mix-{weight}", weights=[1 - weight, weight], overwrite=True))
        scores = {"network": [], "output": []}
        for name in HELD_OUT[:photos]:
            image = photo(name, size)
            outputs = {"network": fused.stylize(image, [name_ for name_, _ in fused.default_styles()]),
                       "output": (1 - weight) * _own(ends[0], image) + weight * _own(ends[1], image)}
            for kind, result in outputs.items():
                scores[kind].append({"content": losses(result, image, styles[0])["content"],
                                     "style_a": losses(result, image, styles[0])["style"],
                                     "style_b": losses(result, image, styles[1])["style"]})
            if name == HELD_OUT[0]:
                cells += [(f"network w={weight}", outputs["network"]), (f"output w={weight}", outputs["output"])]
        rows.append({"weight_b": weight, **{kind: {key: round(statistics.mean(s[key] for s in values), 4)
                                                   for key in values[0]} for kind, values in scores.items()}})
    return {"artworks": list(ARTWORKS), "steps": steps, "size": size, "photos": photos, "along_weights": rows}, cells


def _own(stylizer, image: torch.Tensor) -> torch.Tensor:
    names, weights = zip(*stylizer.default_styles())
    return stylizer.stylize(image, list(names), list(weights))


def jittered_views(image: np.ndarray, rng: np.random.Generator, overlap: float = 0.25) -> list[np.ndarray]:
    """3 views across an (H, W, 3) uint8 image with ``overlap``, each turned and perspective-jittered a little."""
    import cv2

    height, width = image.shape[:2]
    view = int(width / (3 - 2 * overlap))
    step = int(view * (1 - overlap))
    views = []
    for index in range(3):
        crop = image[:, index * step:index * step + view]
        corners = np.float32([[0, 0], [view, 0], [view, height], [0, height]])
        moved = corners + rng.uniform(-4, 4, corners.shape).astype(np.float32)
        centre = (view / 2, height / 2)
        turn = cv2.getRotationMatrix2D(centre, float(rng.uniform(-2, 2)), 1.0)
        moved = cv2.transform(moved[None], turn)[0].astype(np.float32)
        matrix = cv2.getPerspectiveTransform(corners, moved)
        views.append(cv2.warpPerspective(crop, matrix, (view, height), borderMode=cv2.BORDER_REFLECT))
    return views


def registered(result: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``result`` warped onto ``reference`` (both (H, W, 3) uint8) by an ORB + RANSAC homography, and the
    (H, W) mask of the reference pixels it covers."""
    import cv2

    orb = cv2.ORB_create(4000)
    grey = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (result, reference)]
    (points_a, desc_a), (points_b, desc_b) = (orb.detectAndCompute(g, None) for g in grey)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(desc_a, desc_b)
    source = np.float32([points_a[m.queryIdx].pt for m in matches])
    target = np.float32([points_b[m.trainIdx].pt for m in matches])
    homography, _ = cv2.findHomography(source, target, cv2.RANSAC, 3.0)
    height, width = reference.shape[:2]
    warped = cv2.warpPerspective(result, homography, (width, height))
    covered = cv2.warpPerspective(np.full(result.shape[:2], 255, np.uint8), homography, (width, height))
    covered = cv2.erode(covered, np.ones((5, 5), np.uint8)) > 0  # the blended border is half-covered
    covered &= warped.sum(2) > 0  # the stitcher's own black margins
    return warped, covered


def panorama(size: int, overlaps: tuple[float, ...] = OVERLAPS, options: dict | None = None) -> tuple[dict, list]:
    """Scores of the panoramas of every wide photo at every overlap, stitched with ``fuse_images`` ``options``."""
    rows, cells = {}, []
    for overlap in overlaps:
        for name in WIDE:
            rows[f"{name} overlap {overlap}"], more = one_panorama(name, size, overlap, options or {})
            cells += more
    scored = [row for row in rows.values() if "psnr_covered" in row]
    rows["stitched"] = f"{len(scored)} of {len(rows)}"
    if scored:
        rows["mean_of_stitched"] = {key: round(statistics.mean(row[key] for row in scored), 3)
                                    for key in ("psnr_covered", "ssim_covered_luma", "coverage", "seconds")}
    return rows, cells


def one_panorama(name: str, size: int, overlap: float, options: dict) -> tuple[dict, list]:
    """Scores of one stitched panorama (or the one-line error the stitch gave)."""
    import time

    from stylefuse.errors import FusionError
    from stylefuse.fusion._cv import from_bgr, to_bgr8

    original = photo(name, size)
    reference = to_bgr8(original)[..., ::-1].copy()
    views = jittered_views(reference, np.random.default_rng(0), overlap)
    started = time.perf_counter()
    try:
        stitched = fuse_images([from_bgr(view[..., ::-1].copy()) for view in views], "panorama", **options)
    except FusionError as exc:  # a refusal is a result here: report it
        return {"error": str(exc)}, []
    seconds = round(time.perf_counter() - started, 2)
    import cv2

    try:
        warped, covered = registered(to_bgr8(stitched)[..., ::-1].copy(), reference)
    except cv2.error:  # too few matches with the original: a wrong stitch
        return {"error": "the panorama could not be registered onto the original (a wrong stitch)",
                "size": list(stitched.shape[-2:])}, [(f"WRONG overlap {overlap}", stitched)]
    got = torch.from_numpy(warped).permute(2, 0, 1).float() / 255
    mask = torch.from_numpy(covered)
    error = ((got - original) ** 2)[:, mask].mean()
    luma = [ops.luminance(image)[None] for image in (got, original)]
    centres = torch.from_numpy(cv2.erode(covered.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0)  # whole windows
    return {"psnr_covered": round(float(10 * torch.log10(1 / error)), 2),
            "ssim_covered_luma": round(float(ssim(*luma, centres[None, None])[0]), 4),
            "coverage": round(float(mask.float().mean()), 3), "size": list(stitched.shape[-2:]),
            "seconds": seconds}, \
        [(f"{name[:14]} original", original), (f"stitched, overlap {overlap}", stitched)]


def bracket(image: torch.Tensor, stops: float) -> torch.Tensor:
    return (image ** 2.2 * 2.0**stops).clamp(0, 1) ** (1 / 2.2)


def exposure_and_focus(size: int) -> tuple[dict, list]:
    import cv2

    rows: dict = {"exposure": {}, "focus": {}}
    cells = []
    for name in HELD_OUT:
        original = photo(name, size)
        shots = [bracket(original, -1.5), torch.roll(bracket(original, 1.0), shifts=3, dims=-1)]
        fused = fuse_images(shots, "exposure")
        rows["exposure"][name] = {"fused": _psnr(fused, original),
                                  "best_single": max(_psnr(shot, original) for shot in shots)}
        blurred = torch.from_numpy(cv2.GaussianBlur(original.permute(1, 2, 0).numpy(), (0, 0), 3)).permute(2, 0, 1)
        height = original.shape[1]
        stack = []
        for index in range(3):
            shot = blurred.clone()
            rows_ = slice(index * height // 3, (index + 1) * height // 3)
            shot[:, rows_] = original[:, rows_]
            stack.append(shot)
        focused = fuse_images(stack, "focus")
        rows["focus"][name] = {"fused": _psnr(focused, original),
                               "best_single": max(_psnr(shot, original) for shot in stack)}
        if name == HELD_OUT[0]:
            cells += [("bracket -1.5 EV", shots[0]), ("bracket +1 EV", shots[1]), ("exposure fusion", fused),
                      ("focus shot 1", stack[0]), ("focus stack", focused)]
    for kind in ("exposure", "focus"):
        values = rows[kind].values()
        rows[kind]["mean"] = {key: round(statistics.mean(value[key] for value in values), 2)
                              for key in ("fused", "best_single")}
    return rows, cells


def _psnr(image: torch.Tensor, reference: torch.Tensor) -> float:
    return round(float(psnr(image[None], reference[None])[0]), 2)


GATE_MEMBERS = ("builtin:starry-night", "builtin:great-wave", "builtin:udnie")


@torch.no_grad()
def gate_scores(work: Path, count: int, size: int, summary: dict) -> tuple[dict, list]:
    """Score the gate folder in ``work`` against its members and their uniform blend on validation photos."""
    from stylefuse.builtin import STYLES_FOLDER
    from stylefuse.data.splits import split
    from stylefuse.methods.gate import GateTraining, gate_picture, member_outputs

    photos = split("photos")
    task = GateTraining()  # the objective (its recipe's defaults, as trained)
    model = hub.load(work / "gate")
    sources = hub.read_config(STYLES_FOLDER)["style_sources"]
    names = hub.read_config(STYLES_FOLDER)["style_names"]
    paintings = [read_image(BENCH / "style" / sources[names.index(member.style)]).rgb for member in model.members]
    metrics = {name: METRICS.create(name) for name in METRICS.names()}
    scores: dict[str, list[dict]] = {}
    cells, strongest = [], []
    for path in sorted(photos.validation)[:count]:
        image = ops.resize_long_side(read_image(path).rgb, size).clamp(0, 1)
        outputs = member_outputs(model.members, image[None])
        results = {spec: outputs[:, k] for k, spec in enumerate(GATE_MEMBERS)}
        results["uniform blend"] = outputs.mean(1)
        results["gate"] = model.network(image[None], outputs).clamp(0, 1)
        for name, result in results.items():
            row = {k: float(v) for k, v in task.objective(image[None], outputs, result).items()}
            for metric_name, metric in metrics.items():
                row[metric_name] = statistics.mean(float(metric(result[0], image, ops.resize_long_side(painting, size)))
                                                   for painting in paintings)
            scores.setdefault(name, []).append(row)
        strongest.append(float(model.network.weights(image[None], outputs).max(1).values.mean()))
        if len(cells) < 14:
            cells += [(path.stem[:16], image), *((spec, outputs[0, k]) for k, spec in enumerate(GATE_MEMBERS)),
                      ("uniform blend", results["uniform blend"][0]), ("gate", results["gate"][0]),
                      ("gate map", gate_picture(model.network.weights(image[None], outputs)[0]))]
    means = {name: {key: round(statistics.mean(row[key] for row in rows), 4) for key in rows[0]}
             for name, rows in scores.items()}
    best = min(GATE_MEMBERS, key=lambda spec: means[spec]["total"])
    return {"members": list(GATE_MEMBERS), "colours": "red, blue, green in member order, white = even blend",
            "train": {"photos": len(photos.train), **summary, "size": task.recipe.size,
                      "batch_size": task.recipe.batch_size},
            "validation_photos": count, "size": size, "best_member": best,
            "mean_strongest_weight": round(statistics.mean(strongest), 4),
            "objective_ratio_gate_to_best_member": round(means["gate"]["total"] / means[best]["total"], 4),
            "objective_ratio_gate_to_uniform": round(means["gate"]["total"] / means["uniform blend"]["total"], 4),
            "directions": {name: "higher" if metric.higher_is_better else "lower" for name, metric in metrics.items()},
            "means": means}, cells


def train_gate(work: Path, minutes: float, resume: bool) -> dict:
    """Train (or go on training) a gate over :data:`GATE_MEMBERS` on the training split's photos for ``minutes``."""
    from stylefuse.data.splits import split
    from stylefuse.methods._trainable import fit_and_export
    from stylefuse.methods.gate import GateTraining
    from stylefuse.train.loop import TrainOptions

    torch.manual_seed(0)
    task = GateTraining()
    batches = task.make_batches({"models": list(GATE_MEMBERS), "data": list(split("photos").train)}, seed=0)
    options = TrainOptions(steps=1_000_000, lr=GateTraining.default_lr, betas=GateTraining.default_betas,
                           decay_from=1.0, checkpoint_every=20, sample_every=0, progress=False,
                           max_seconds=minutes * 60, overwrite=not resume)
    summary = fit_and_export(task, batches, options, work / "gate", resume=resume)
    return {"steps": summary["steps"], "seconds_this_run": round(summary["seconds"])}


TILE = 2048
PANORAMA_RUNS = {"thumbnail-IN-tiles": (1.0, TILE), "own-statistics-tiles": (1.0, TILE), "single-pass": (1.0, None),
                 "single-pass-quarter-width": (0.25, None)}
"""Run name -> (scale of the panorama, tile size)."""
PANORAMA_STYLE = "starry-night"


def wide_picture(width: int) -> torch.Tensor:
    """A (3, 0.3 width, width) panorama: the wide held-out photos (their tones differ) side by side at that
    height, repeated."""
    height = round(0.3 * width / 8) * 8
    photos = [read_image(BENCH / "content" / f"{name}.jpg").rgb for name in WIDE]
    photos = [ops.resize(image, (height, round(image.shape[-1] * height / image.shape[-2]))) for image in photos]
    count = -(-width // min(image.shape[-1] for image in photos))
    return torch.cat([photos[index % len(photos)] for index in range(count)], -1)[..., :width].contiguous()


def overlap_bands(length: int, tile: int, overlap: int = 32, multiple: int = 8) -> list[tuple[int, int]]:
    """Where neighbouring tiles of :func:`stylefuse.image.ops.apply_tiled` overlap along one axis."""
    tiles = ops.overlapping_tiles(length, tile, overlap, multiple)
    return [(start, previous_end) for (_, previous_end), (start, _) in zip(tiles, tiles[1:])]


def seam_score(image: torch.Tensor, rows: list[tuple[int, int]], columns: list[tuple[int, int]],
               sigma: float = 10.0) -> float:
    """Mean colour gradient magnitude of (3, H, W) blurred by a Gaussian of ``sigma`` px (which keeps changes
    of tone, the seams of tiles, and removes the strokes) within ``2 sigma`` of the bands ``rows`` and
    ``columns``, divided by its mean elsewhere: about 1 without seams."""
    import cv2

    blurred = np.stack([cv2.GaussianBlur(channel.numpy(), (0, 0), sigma) for channel in image])
    gradient = np.sqrt((np.diff(blurred, axis=2)[:, :-1] ** 2 + np.diff(blurred, axis=1)[:, :, :-1] ** 2).sum(0))
    band, pad = np.zeros(gradient.shape, bool), round(2 * sigma)
    for start, end in rows:
        band[max(0, start - pad):end + pad] = True
    for start, end in columns:
        band[:, max(0, start - pad):end + pad] = True
    return float(gradient[band].mean() / gradient[~band].mean())


def panorama_run(name: str, width: int, folder: Path) -> dict:
    """One run of :data:`PANORAMA_RUNS` in this process: its seam score, seconds and peak memory; a crop around
    the first tile border and a small view of the whole are written to ``folder``."""
    import time

    from stylefuse.evaluate import peak_rss_mib
    from stylefuse.image.io import write_image
    from stylefuse.methods.fast import FastStylizer

    scale, tile = PANORAMA_RUNS[name]
    picture = wide_picture(round(width * scale / 8) * 8)
    stylizer = FastStylizer(tile=tile, backend="torch")
    started = time.perf_counter()
    if name == "own-statistics-tiles":
        network, style = stylizer.runner.network, stylizer.style_vector([(PANORAMA_STYLE, 1.0)])[None]
        with torch.no_grad():
            result = ops.apply_tiled(lambda x: network(x, style.expand(x.shape[0], -1)), picture[None], tile=tile,
                                     overlap=32, multiple=8, margin=128)[0].clamp(0, 1)
    else:
        result = stylizer.stylize(picture, [PANORAMA_STYLE])
    seconds = time.perf_counter() - started
    height, wide = result.shape[-2:]
    rows, columns = (overlap_bands(round(length / scale), TILE) for length in (height, wide))
    rows, columns = ([(round(a * scale), max(round(b * scale), round(a * scale) + 1)) for a, b in bands]
                     for bands in (rows, columns))
    centre = sum(columns[0]) // 2
    crop = result[:, :min(height, 384), max(0, centre - 192):centre + 192]
    write_image(folder / f"{name}-crop.png", crop)
    write_image(folder / f"{name}-view.png", ops.resize_long_side(result, 1600))
    return {"size": [height, wide], "seam_score": round(seam_score(result, rows, columns, 10 * scale), 4),
            "seconds": round(seconds, 1), "peak_rss_mib": round(peak_rss_mib())}


def thumbnail_norm(width: int, folder: Path) -> tuple[dict, list]:
    """Every run of :data:`PANORAMA_RUNS`, each in a child process of its own (peak memory is per process)."""
    import json
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    rows, cells = {}, []
    for name in PANORAMA_RUNS:
        command = [sys.executable, __file__, "--panorama-run", name, "--panorama-width", str(width), "--work",
                   str(folder), "--threads", str(torch.get_num_threads())]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            rows[name] = {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
            continue
        rows[name] = json.loads(done.stdout)
        cells += [(f"{name}: border", read_image(folder / f"{name}-crop.png").rgb)]
    return {"style": PANORAMA_STYLE, "width": width, "tile": TILE, "thumbnail": 1024, "runs": rows}, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="L-BFGS steps of each personalised sibling.")
    parser.add_argument("--size", type=int, default=256, help="Long side for the interpolation scores.")
    parser.add_argument("--photos", type=int, default=2, help="Held-out photos for the interpolation scores.")
    parser.add_argument("--image-size", type=int, default=1024, help="Long side of the photos for the others.")
    parser.add_argument("--sheet", type=Path, default=Path("out/bench_fusion/sheet.jpg"))
    parser.add_argument("--out", type=Path, default=None, help="JSON to write (default: benchmarks/results/"
                        "fusion[-SECTION]-DATE.json).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gate", action="store_true", help="Run only the gate section.")
    parser.add_argument("--gate-minutes", type=float, default=10.0, help="Gate training time (0: score the "
                        "gate already in --work).")
    parser.add_argument("--gate-resume", action="store_true", help="Go on training the gate in --work.")
    parser.add_argument("--gate-photos", type=int, default=8, help="Validation photos the gate is scored on.")
    parser.add_argument("--gate-size", type=int, default=256, help="Long side of the validation photos.")
    parser.add_argument("--work", type=Path, default=Path("out/bench_fusion"), help="Where trained folders go.")
    parser.add_argument("--thumbnail", action="store_true", help="Run only the thumbnail instance norm section.")
    parser.add_argument("--panorama-width", type=int, default=8000)
    parser.add_argument("--stitch", action="store_true", help="Run only the panoramas at 20-40%% overlap, every "
                        "stitch mode side by side.")
    parser.add_argument("--suffix", default=None, help="--stitch: name the JSON and sheet fusion-stitch-SUFFIX "
                        "(default: the date).")
    parser.add_argument("--panorama-run", choices=sorted(PANORAMA_RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_bench(args.threads)
    if args.panorama_run:  # a child of --thumbnail
        print(json.dumps(panorama_run(args.panorama_run, args.panorama_width, args.work)))
        return
    result: dict = {"benchmark": "fusion", "threads": torch.get_num_threads()}
    if args.stitch:
        import os

        result["load_average"] = [round(value, 2) for value in os.getloadavg()]
        result["stitch"], cells = {}, []
        for variant, options in STITCH_VARIANTS.items():
            result["stitch"][variant], stitched = panorama(args.image_size, (0.2, 0.25, 0.3, 0.4), options)
            cells += stitched if not cells else []
        suffix = args.suffix or str(date.today())
        result["sheet"] = save_sheet(RESULTS / f"fusion-stitch-{suffix}.jpg", cells, columns=6, cell_size=320)
        save_result(result, args.out or RESULTS / f"fusion-stitch-{suffix}.json")
        return
    if args.thumbnail:
        result["thumbnail_norm"], cells = thumbnail_norm(args.panorama_width, args.work / "thumbnail")
        result["sheet"] = save_sheet(RESULTS / f"fusion-thumbnail-{date.today()}.jpg", cells, columns=4, cell_size=320)
        save_result(result, args.out or RESULTS / f"fusion-thumbnail-{date.today()}.json")
        return
    if args.gate:
        trained = train_gate(args.work, args.gate_minutes, args.gate_resume) if args.gate_minutes else \
            {"steps": hub.read_config(args.work / "gate")["steps"]}
        result["gate"], cells = gate_scores(args.work, args.gate_photos, args.gate_size, trained)
        result["sheet"] = save_sheet(RESULTS / f"fusion-gate-{date.today()}.jpg", cells, columns=7, cell_size=160)
        save_result(result, args.out or RESULTS / f"fusion-gate-{date.today()}.json")
        return
    with tempfile.TemporaryDirectory() as work:
        result["interpolation"], cells = interpolation(Path(work), args.steps, args.size, args.photos)
    result["panorama"], stitched = panorama(args.image_size)
    shots, fused = exposure_and_focus(args.image_size)
    result.update(shots)
    cells += stitched + fused
    result["sheet"] = save_sheet(args.sheet, cells, columns=4)
    save_result(result, args.out or RESULTS / f"fusion-{date.today()}.json")


if __name__ == "__main__":
    main()
