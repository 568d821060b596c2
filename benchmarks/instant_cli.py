"""Process wall time of ``stylefuse stylize photo.jpg --style starry-night -o out.jpg`` at 512 px: the instant
path (built-in styles through the cached ONNX export, no PyTorch import) against the PyTorch path
(``STYLEFUSE_BACKEND=torch``: the same network in ONNX Runtime behind ``import torch`` and the full parser),
side by side in one run, interleaved so both see the same machine load; and the same for a painting with
``--method fast`` (a held-out painting whose tables are cached, and a new painting each run: a copy with one
pixel changed, so its tables are predicted). For each: the median wall time of the
CLI subprocess, its CPU time (user + system, less sensitive to other work on the machine), and the in-process
time of the same work once everything is loaded (decode, network, encode). Prints JSON. Needs
../shared/data/bench (a held-out photo).

    python benchmarks/instant_cli.py [--runs 9 --size 512 --threads 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, median_seconds, require_bench, save_result  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {"instant": ("onnx", None, "name"), "instant_1_thread": ("onnx", 1, "name"),
            "torch": ("torch", None, "name"), "painting_instant": ("onnx", None, "painting"),
            "painting_torch": ("torch", None, "painting"), "new_painting_instant": ("onnx", None, "new painting"),
            "new_painting_torch": ("torch", None, "new painting")}
"""Benchmark column -> (value of STYLEFUSE_BACKEND, threads (None: --threads), style). With one thread a
process's CPU time is about what its wall time would be on a quiet machine."""
PAINTING = "hokusai_great_wave"
"""A painting of ../shared/data/bench/style (not one of the built-in styles' paintings)."""


def run_cli(photo: Path, out: Path, backend: str, threads: int, style: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``stylefuse stylize`` process with the ``style`` arguments."""
    env = {**os.environ, "STYLEFUSE_BACKEND": backend,
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, "-m", "stylefuse", "stylize", str(photo), *style, "-o", str(out), "--threads", str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def in_process(photo: Path, out: Path, threads: int) -> dict[str, float]:
    """Seconds of decode + stylize + encode once loaded: the instant stylizer, and the PyTorch path's job."""
    from stylefuse import api
    from stylefuse.frontends.instant import instant_stylizer
    from stylefuse.image.io import read_image, write_image

    api.set_threads(threads)
    instant = instant_stylizer(photo, ["starry-night"], threads=threads).process(64_000_000)
    job = api.prepare(["starry-night"])

    def torch_path() -> None:
        result = job.run(read_image(photo))
        write_image(out, result.rgb, result.alpha)

    return {"instant": median_seconds(lambda: instant(photo, out), runs=5),
            "torch": median_seconds(torch_path, runs=5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/instant_cli-{date.today()}.json"))
    args = parser.parse_args()
    require_bench(args.threads)
    folder = Path(tempfile.mkdtemp())
    photo = folder / "photo.jpg"
    with Image.open(BENCH / "content" / f"{HELD_OUT[0]}.jpg") as image:
        image.convert("RGB").resize(_size(image.size, args.size), Image.LANCZOS).save(photo, quality=95)
    painting = folder / "painting.png"
    with Image.open(BENCH / "style" / f"{PAINTING}.jpg") as image:
        image.convert("RGB").save(painting)
    fresh = _fresh_paintings(painting, folder)

    def style(kind: str) -> list[str]:
        if kind == "name":
            return ["--style", "starry-night"]
        return ["--method", "fast", "--style", str(painting if kind == "painting" else next(fresh))]

    load_before = os.getloadavg()[0]
    for backend, threads, kind in VARIANTS.values():  # warm-up: the first instant calls export the networks
        run_cli(photo, folder / f"warm-{backend}.jpg", backend, threads or args.threads, style(kind))
    times: dict[str, list[tuple[float, float]]] = {key: [] for key in VARIANTS}
    for _ in range(args.runs):
        for key, (backend, threads, kind) in VARIANTS.items():
            times[key].append(run_cli(photo, folder / f"{key}.jpg", backend, threads or args.threads, style(kind)))
    loaded = in_process(photo, folder / "in-process.jpg", args.threads)
    result = {"benchmark": "instant_cli", "date": str(date.today()), "photo": f"{HELD_OUT[0]} at {args.size} px",
              "command": "stylefuse stylize photo.jpg --style starry-night -o out.jpg", "threads": args.threads,
              "runs": args.runs, "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    for key in VARIANTS:
        walls, cpus = zip(*times[key])
        result[key] = {"process_wall_s_median": round(statistics.median(walls), 3),
                       "process_wall_s_min": round(min(walls), 3),
                       "process_cpu_s_median": round(statistics.median(cpus), 3)}
        if key in loaded:
            result[key]["in_process_s_median"] = round(loaded[key], 3)
    result["painting"] = f"{PAINTING} (--method fast)"
    for prefix in ("", "painting_", "new_painting_"):
        result[f"{prefix}wall_ratio_torch_over_instant"] = round(
            result[f"{prefix}torch"]["process_wall_s_median"] / result[f"{prefix}instant"]["process_wall_s_median"], 2)
    save_result(result, args.out)


def _fresh_paintings(painting: Path, folder: Path):
    """Copies of ``painting``, each with one pixel changed (a new painting for the tables cache)."""
    count = 0
    while True:
        count += 1
        with Image.open(painting) as image:
            copy = image.convert("RGB")
        copy.putpixel((0, 0), (count % 256, count // 256 % 256, 7))
        path = folder / f"painting-{count}.png"
        copy.save(path)
        yield path


def _size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = long_side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


if __name__ == "__main__":
    main()
