"""A per-image process over a file or over every image of a folder, as ``stylize`` and ``translate`` run it,
without PyTorch or the command-line parser (the instant path uses it too).

In a folder, a file that fails is reported on one line and skipped, and the rest goes on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

from stylefuse.errors import ImageReadError, OptionError, StylefuseError
from stylefuse.image.arrays import WRITE_FORMATS, ensure_not_input, list_image_files

Process = Callable[[Path, Path], tuple[tuple[int, int], bool]]
"""``process(source, target) -> ((width, height), interrupted)``: stylize one file into another."""


def run_over_inputs(content: Path, output: Path | None, protected: list[Path], overwrite_input: bool,
                    process: Process) -> int:
    """Apply ``process`` to ``content`` (a file, written to ``output`` or ``<stem>-stylized.png``) or to every
    image of the folder ``content`` (written into the folder ``output`` or ``<folder>-stylized``), printing a
    line per file written.

    Args:
        protected: more files that must not be overwritten (style images).

    Returns:
        The exit status: 0, 130 when interrupted, 2 when a file of a folder was skipped.
    """
    if content.is_dir():
        jobs = folder_jobs(content, output)
    else:
        if not content.exists():
            raise ImageReadError(f"cannot read {content}: no such file or folder")
        jobs = [(content, output or Path(f"{content.stem}-stylized.png"))]
    inputs = protected + [source for source, _ in jobs]
    written, skipped = 0, []
    for source, target in jobs:
        started = time.perf_counter()
        try:
            ensure_not_input(target, inputs, overwrite_input)
            (width, height), interrupted = process(source, target)
        except StylefuseError as exc:
            if len(jobs) == 1:
                raise
            print(f"skipped {source.name}: {exc}", file=sys.stderr, flush=True)
            skipped.append(source)
            continue
        written += 1
        note = " (interrupted: best result so far)" if interrupted else ""
        print(f"wrote {target} ({width}x{height}, {time.perf_counter() - started:.1f} s){note}", flush=True)
        if interrupted:
            return 130
    if len(jobs) > 1:
        print(f"{written} written, {len(skipped)} skipped", flush=True)
    return 2 if skipped else 0


def folder_jobs(folder: Path, output: Path | None) -> list[tuple[Path, Path]]:
    """(source, target) of every image of ``folder``; targets keep the extension when it can be written, else
    PNG."""
    folder = folder.resolve()  # "." has no name to derive the output folder from
    out_dir = output or folder.with_name(folder.name + "-stylized")
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir} is a file; with a folder of images, -o must be a folder")
    files = list_image_files(folder)
    if not files:
        raise ImageReadError(f"{folder} holds no files to process")
    jobs = []
    for source in files:
        suffix = source.suffix.lower() if source.suffix.lower() in WRITE_FORMATS else ".png"
        jobs.append((source, out_dir / (source.stem + suffix)))
    return jobs
