"""Batch stylization of many images: ``stylefuse batch INPUT --style S -o OUT``.

INPUT is a folder, a glob or a text file listing paths, or an object-store URI (``s3://bucket/prefix``, ``gs://...``,
``file:///abs/path``: :mod:`stylefuse.frontends.batch_store`, through pyarrow); OUT may be such a prefix too.
Every image is stylized by one prepared job and written atomically to ``OUT/<name>``; outputs that already exist
and decode are skipped, so an interrupted run resumes where it stopped. Files that cannot be read are listed in
``OUT/_manifest.tsv`` (path, reason) and skipped. The work runs in a plain local loop, or on Ray Data actors
(:mod:`stylefuse.frontends.batch_ray`) with the same outputs.
"""

from __future__ import annotations

import contextlib
import glob
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, ContextManager, Iterable, Iterator, Union

from PIL import Image

from stylefuse.errors import ImageReadError, OptionError, StylefuseError
from stylefuse.fileutil import atomic_write
from stylefuse.frontends import batch_store
from stylefuse.frontends.batch_store import is_uri
from stylefuse.image.io import DEFAULT_MAX_PIXELS, READ_SUFFIXES, WRITE_FORMATS, list_image_files, read_image

MANIFEST = "_manifest.tsv"
"""The file of ``OUT`` that lists the inputs that could not be stylized: ``path<TAB>reason`` per line."""
STAGES = ("decode", "model", "encode")
"""Where the time of one image goes (with an object store, decode includes the download, encode the upload)."""
Location = Union[Path, str]
"""A local path, or an object-store URI string (see :func:`stylefuse.frontends.batch_store.is_uri`)."""


def location(text: str | Path) -> Location:
    """``text`` as a :data:`Location`: URIs stay strings, anything else is a local path."""
    return text if is_uri(text) else Path(text)


@dataclass(frozen=True)
class JobRecipe:
    """What :func:`stylefuse.api.prepare` needs, in a picklable form, so that each Ray actor builds its own job.

    Args:
        style: style names or paths (``NAME[:WEIGHT]`` / ``PATH[:WEIGHT]``), as ``--style`` takes them.
        method: a registered method, or None for the default (or the model folder's).
        model: a trained model folder, or None.
        strength: style strength 0..1, or None.
        options: the method's own options (``--set``).
        max_pixels: refuse input images larger than this.
        device: where the network runs (``auto`` is resolved in each process: on Ray, on each actor's machine).
    """

    style: tuple[str, ...] = ()
    method: str | None = None
    model: str | None = None
    strength: float | None = None
    options: tuple[tuple[str, Any], ...] = ()
    max_pixels: int = DEFAULT_MAX_PIXELS
    device: str = "cpu"

    def prepare(self):
        """The :class:`stylefuse.api.Job` of this recipe (loads weights: once per process or actor)."""
        from stylefuse import api
        from stylefuse.devices import resolve_device

        wiring = {"progress": False, "device": resolve_device(self.device)}
        return api.prepare(list(self.style) or None, self.method, self.model, self.strength,
                           max_pixels=self.max_pixels, wiring=wiring, **dict(self.options))


@dataclass
class Outcome:
    """What became of one input: ``written``, ``failed`` (with a reason), and the seconds spent per stage."""

    source: str
    status: str
    reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class BatchSummary:
    """The counts of a batch run, the failed inputs with their reasons, and the time per stage."""

    written: int = 0
    done_before: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, outcome: Outcome) -> None:
        """Count one processed input."""
        if outcome.status == "written":
            self.written += 1
        else:
            self.failed.append((outcome.source, outcome.reason))
        for stage, value in outcome.seconds.items():
            self.stage_seconds[stage] += value

    @property
    def images_per_second(self) -> float:
        """Inputs processed (written or failed) per second of wall time."""
        return (self.written + len(self.failed)) / self.seconds if self.seconds > 0 else 0.0


def collect_inputs(spec: str) -> list[Location]:
    """The input files of ``spec``: every image of a folder, the files matching a glob (``**`` recurses), the
    paths listed in a local text file (one a line, paths or URIs; blank lines and ``#`` comments skipped; relative
    paths are relative to the list file's folder), or every image under an object-store prefix (or the one file a
    URI names).

    Raises:
        ImageReadError: nothing to process.
        OptionError: a URI with a glob, or a URI without pyarrow.
    """
    path = Path(spec)
    if is_uri(spec):
        if glob.has_magic(spec.split("?")[0]):
            raise OptionError(f"{spec}: globs are not expanded in URIs; give the prefix (folder) or a list file")
        files = batch_store.list_files(spec, READ_SUFFIXES)
    elif path.is_dir():
        files = list_image_files(path)
    elif path.is_file() and path.suffix.lower() not in READ_SUFFIXES:
        files = _listed_paths(path)
    elif path.is_file():
        files = [path]
    elif glob.has_magic(spec):
        files = sorted(Path(match) for match in glob.glob(spec, recursive=True) if Path(match).is_file())
    else:
        raise ImageReadError(f"cannot read {spec}: no such file or folder (give a folder, a glob or a list file)")
    if not files:
        raise ImageReadError(f"{spec} names no files to process")
    return files


def _listed_paths(list_file: Path) -> list[Location]:
    lines = (line.strip() for line in list_file.read_text(encoding="utf-8", errors="replace").splitlines())
    return [line if is_uri(line) else list_file.parent / line for line in lines if line and not line.startswith("#")]


def plan(sources: list[Location], out_dir: Location) -> list[tuple[Location, Location]]:
    """(source, target) pairs: ``OUT/<stem><suffix>``, PNG where the source's format cannot be written.

    Raises:
        OptionError: ``OUT`` is a file, two inputs would write the same output, or an output would be an input.
    """
    if not is_uri(out_dir) and out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir} is a file; -o must be a folder")
    pairs, seen = [], {}
    resolved_sources = {_identity(source) for source in sources}
    for source in sources:
        name = PurePosixPath(batch_store.name_of(source) if is_uri(source) else source.name)
        suffix = name.suffix.lower() if name.suffix.lower() in WRITE_FORMATS else ".png"
        target = batch_store.join(out_dir, name.stem + suffix) if is_uri(out_dir) else out_dir / (name.stem + suffix)
        if target in seen:
            raise OptionError(f"{seen[target]} and {source} would both be written to {target}; rename one")
        if _identity(target) in resolved_sources:
            raise OptionError(f"the output {target} would overwrite an input; choose another -o folder")
        seen[target] = source
        pairs.append((source, target))
    return pairs


def _identity(place: Location) -> Location:
    """What two names of the same file have in common: the resolved path, or the URI without a trailing ``/``."""
    return place.rstrip("/") if is_uri(place) else place.resolve()


def is_done(target: Location) -> bool:
    """True when ``target`` exists with an intact image header (outputs are written atomically, so a run that
    stopped never leaves a half-written one; a file damaged since is done again). Only the header is checked:
    resuming a large run must not decode every output it already wrote (nor download it from a store)."""
    if is_uri(target):
        if not batch_store.is_file(target):
            return False
        opened: ContextManager[Any] = batch_store.open_input(target)
    elif not target.is_file() or target.stat().st_size == 0:
        return False
    else:
        opened = contextlib.nullcontext(target)
    try:
        with opened as file, Image.open(file) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def stylize_file(job, source: Location, target: Location, max_pixels: int = DEFAULT_MAX_PIXELS) -> Outcome:
    """Decode ``source``, run ``job`` on it and write ``target`` atomically; a user error (an unreadable or too
    large file) is a ``failed`` outcome with its one-line reason, not an exception. URIs are downloaded to (and
    uploaded from) local temporary files."""
    from stylefuse.image.io import write_image

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        with batch_store.local_copy(source) if is_uri(source) else contextlib.nullcontext(source) as local:
            picture = read_image(local, max_pixels)
        seconds["decode"], clock = time.perf_counter() - clock, time.perf_counter()
        result = job.run(picture)
        seconds["model"], clock = time.perf_counter() - clock, time.perf_counter()
        with batch_store.staged_output(target) if is_uri(target) else contextlib.nullcontext(target) as local:
            write_image(local, result.rgb, result.alpha)
        seconds["encode"] = time.perf_counter() - clock
    except StylefuseError as exc:
        return Outcome(str(source), "failed", " ".join(str(exc).split()), seconds)
    return Outcome(str(source), "written", "", seconds)


def pending(pairs: list[tuple[Location, Location]]) -> list[tuple[Location, Location]]:
    """The pairs whose output is not done yet (see :func:`is_done`)."""
    return [(source, target) for source, target in pairs if not is_done(target)]


def run_local(recipe: JobRecipe, pairs: list[tuple[Location, Location]]) -> Iterator[Outcome]:
    """Stylize ``pairs`` one after the other in this process with one job."""
    job = recipe.prepare()
    for source, target in pairs:
        yield stylize_file(job, source, target, recipe.max_pixels)


def manifest_location(out_dir: Location) -> Location:
    """Where the manifest of ``OUT`` is: ``OUT/_manifest.tsv``."""
    return batch_store.join(out_dir, MANIFEST) if is_uri(out_dir) else out_dir / MANIFEST


def write_manifest(out_dir: Location, failed: list[tuple[str, str]]) -> Location:
    """Write ``OUT/_manifest.tsv`` (atomically): a header, then ``path<TAB>reason`` for each failed input."""
    def clean(text: str) -> str:
        return text.replace("\t", " ").replace("\n", " ")

    rows = ["path\treason"] + [f"{clean(path)}\t{clean(reason)}" for path, reason in failed]
    target = manifest_location(out_dir)
    if is_uri(target):
        with batch_store.staged_output(target) as local:
            local.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return target
    return atomic_write(target, lambda tmp: tmp.write_text("\n".join(rows) + "\n", encoding="utf-8"))


Runner = Callable[[JobRecipe, list[tuple[Location, Location]]], Iterable[Outcome]]
"""Runs a recipe over (source, target) pairs and yields one :class:`Outcome` per pair, in any order."""


def run_batch(input_spec: str, out_dir: Location, recipe: JobRecipe, runner: Runner = run_local,
              show_progress: bool = True) -> BatchSummary:
    """Stylize every input of ``input_spec`` not yet done into ``out_dir`` and write the manifest of failures.

    Args:
        input_spec: a folder, a glob, a list file or a URI (see :func:`collect_inputs`).
        out_dir: a local folder or an object-store URI prefix.
        runner: :func:`run_local`, or a Ray runner (:func:`stylefuse.frontends.batch_ray.ray_runner`).
        show_progress: a bar with images per second.

    The manifest is written even when the run is interrupted (Ctrl-C), with the failures found so far.
    """
    from stylefuse.progress import progress_bar

    pairs = plan(collect_inputs(input_spec), out_dir)
    todo = pending(pairs)
    summary = BatchSummary(done_before=len(pairs) - len(todo))
    started = time.perf_counter()
    try:
        with progress_bar("batch", len(todo), enabled=show_progress and bool(todo)) as bar:
            for outcome in runner(recipe, todo) if todo else ():
                summary.add(outcome)
                bar.update(advance=1, status=f"{len(summary.failed)} failed")
    finally:
        summary.seconds = time.perf_counter() - started
        if not is_uri(out_dir):
            out_dir.mkdir(parents=True, exist_ok=True)
        write_manifest(out_dir, summary.failed)
    return summary
