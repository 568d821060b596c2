"""Batch stylization throughput: a plain loop in one process against Ray Data with 1 and 2 workers.

Every bench content photo (../shared/data/bench/content), ``--copies`` times, is stylized with the fast built-in
style at 512 px (long side) into a fresh folder by :func:`stylefuse.frontends.batch.run_batch`. Images per second
are of the whole run (for Ray: actor start and model load included, ``ray.init`` not). Where the time goes (decode,
model, encode) is summed over the images, as a share of the work. Ray needs the ``ray`` extra; without it only the
plain loop runs. With pyarrow (it comes with the ``ray`` extra) the one-thread loop also runs on ``file://`` URIs of
the same folders, through pyarrow.fs as on an object store: the cost of the temporary copies (in decode and encode).
The machine's load average is recorded: on a shared 2-core machine the figures move with it.

    python benchmarks/batch.py [--cpus 2] [--copies 3] [--out benchmarks/results/batch-DATE.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

from stylefuse.frontends.batch import JobRecipe, run_batch, run_local

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, require_bench, save_result  # noqa: E402

RECIPE = JobRecipe(style=("starry-night",), method="fast", options=(("size", 512),))


def inputs(scratch: Path, copies: int) -> Path:
    """A folder of ``copies`` links to each bench photo, so that start-up costs weigh as on a longer run."""
    folder = scratch / "inputs"
    folder.mkdir()
    for photo in sorted((BENCH / "content").iterdir()):
        for copy in range(copies):
            (folder / f"{photo.stem}-{copy}{photo.suffix}").symlink_to(photo)
    return folder


def measure(name: str, runner, folder: Path, scratch: Path, uris: bool = False) -> dict:
    """One run over ``folder`` into a fresh folder (as ``file://`` URIs with ``uris``): images/s and the share of
    each stage."""
    source, out = (folder.as_uri(), (scratch / name).as_uri()) if uris else (str(folder), scratch / name)
    summary = run_batch(source, out, RECIPE, runner, show_progress=False)
    work = sum(summary.stage_seconds.values()) or 1.0
    return {"runner": name, "images": summary.written, "failed": len(summary.failed),
            "seconds": round(summary.seconds, 2), "images_per_s": round(summary.images_per_second, 2),
            "share": {stage: round(value / work, 3) for stage, value in summary.stage_seconds.items()},
            "ms_per_image": {stage: round(1000 * value / max(summary.written, 1), 1)
                             for stage, value in summary.stage_seconds.items()}}


def warm_up(scratch: Path) -> None:
    """Stylize one photo untimed, so that one-off work (built-in weights unpacked, an ONNX model exported into the
    cache) is not charged to the first runner."""
    from stylefuse.frontends.batch import stylize_file

    first = sorted((BENCH / "content").iterdir())[0]
    stylize_file(RECIPE.prepare(), first, scratch / "warm-up.png")


def plain_loop(threads: int):
    """The local runner with ``threads`` PyTorch threads."""
    import torch

    def run(recipe, pairs):
        torch.set_num_threads(threads)
        yield from run_local(recipe, pairs)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs to use (Ray's num_cpus; most threads of a loop)")
    parser.add_argument("--copies", type=int, default=3, help="times each bench photo is stylized")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / f"batch-{date.today()}.json")
    args = parser.parse_args()
    require_bench(args.cpus)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        warm_up(Path(scratch))
        folder = inputs(Path(scratch), args.copies)
        for threads in sorted({1, args.cpus}):
            rows.append(measure(f"plain loop, {threads} thread(s)", plain_loop(threads), folder, Path(scratch)))
        try:
            import pyarrow.fs  # noqa: F401
        except ImportError:
            print("note: pyarrow is not installed; no file:// URI run", file=sys.stderr)
        else:
            rows.append(measure("file:// URIs: loop, 1 thread", plain_loop(1), folder, Path(scratch), True))
        try:
            import ray

            from stylefuse.frontends.batch_ray import ray_runner
        except ImportError:
            print("note: ray is not installed (pip install 'stylefuse[ray]'); measured the plain loop only",
                  file=sys.stderr)
        else:
            ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
            for workers in (1, 2):
                rows.append(measure(f"ray, {workers} worker(s) of 1 thread", ray_runner(workers), folder,
                                    Path(scratch)))
            ray.shutdown()
    best_plain = max(row["images_per_s"] for row in rows if row["runner"].startswith("plain")) or 1.0
    for row in rows:
        row["vs_best_plain_loop"] = round(row["images_per_s"] / best_plain, 2)
    save_result({"benchmark": "batch", "date": str(date.today()), "machine": platform.machine(),
                 "cpus": args.cpus, "copies": args.copies, "load_average_after": os.getloadavg(),
                 "style": "starry-night (fast, 512 px)", "rows": rows}, args.out)


if __name__ == "__main__":
    main()
