"""Evaluation runs: stylize every content x style pair with one candidate (a registered method, the
built-in styles, or an external tool), cache the results, and measure them with the registered
metrics, the distribution distances, latency and peak memory.

A run writes its results into ``<out>/images/<recipe>/``: ``*.png``, ``index.json`` (per-pair latency) and
``recipe.json``, where ``<recipe>`` is the candidate's name and a short hash of everything that decides
its images (name, options, size, model folder), so that runs with another method, option or size into
the same ``out`` never reuse each other's images, while a repeated run reuses its own. It returns a
JSON-ready dict that :mod:`stylefuse.metrics.report` renders.
"""

from __future__ import annotations

import functools
import hashlib
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from stylefuse.errors import OptionError, StylefuseError
from stylefuse.image import ops
from stylefuse.image.io import list_image_files, read_image, write_image
from stylefuse.progress import progress_bar
from stylefuse.registry import METRICS

StylizeFn = Callable[[torch.Tensor, torch.Tensor, Path], torch.Tensor]
"""(content (3, H, W), style (3, h, w), style path) -> result (3, H', W'), all in [0, 1]."""


@dataclass
class Candidate:
    """What is evaluated: a name and how it stylizes one pair.

    Attributes:
        name: shown in reports.
        stylize: see :data:`StylizeFn`.
        options: everything besides the name and the size that decides the results (method options,
            the model folder's fingerprint); part of the cache key, so it must be JSON-serialisable
            (other values are keyed by their ``str``).
    """

    name: str
    stylize: StylizeFn
    options: dict = field(default_factory=dict)

    def recipe_key(self, size: int) -> str:
        """The name of this candidate's cache folder at ``size``: ``<name>-<hash of the recipe>``."""
        recipe = json.dumps(self.recipe(size), sort_keys=True, default=str)
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.name)
        return f"{safe_name}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"

    def recipe(self, size: int) -> dict:
        """What decides this candidate's images at ``size``."""
        return {"candidate": self.name, "options": self.options, "size": size}


def folder_fingerprint(folder: str | Path) -> dict:
    """Identifies a model folder's contents cheaply: its path, a hash of its config.json and the size and
    modification time of its other files (a retrained model changes them)."""
    folder = Path(folder).resolve()
    config = folder / "config.json"
    files = {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(folder.iterdir())
             if p.is_file() and p.name != config.name}
    digest = hashlib.sha256(config.read_bytes()).hexdigest()[:16] if config.is_file() else None
    return {"path": str(folder), "config_sha256": digest, "files": files}


def candidate_for(method: str, model: str | Path | None = None, device: str = "cpu", **options) -> Candidate:
    """The candidate of a registered method: a multi-style one (``model``, None: the built-in) runs its
    named styles (:func:`named_styles_candidate`), the others stylize with the painting itself. A ``model``
    folder counts as multi-style by what its loaded stylizer takes (an ensemble's members decide). ``device``
    goes to the methods that take one (results are cached by recipe, whatever the device)."""
    from stylefuse import hub
    from stylefuse.api import accepted_wiring
    from stylefuse.methods._base import NO_STYLE, STYLE_NAMES
    from stylefuse.registry import METHODS

    wiring = accepted_wiring(METHODS.get(method), {"device": device})
    loaded = None if model is None else hub.load(model, method, **options, **wiring)
    if (loaded or METHODS.get(method)).style_input == STYLE_NAMES or (
            loaded is not None and loaded.style_input == NO_STYLE and loaded.document.get("style_sources")):
        return named_styles_candidate(model, method, loaded=loaded, wiring=wiring, **options)
    if model is not None:
        raise OptionError(f"--model applies to methods with named styles, not to {method}")
    return method_candidate(method, device, **options)


def method_candidate(name: str, device: str = "cpu", **options) -> Candidate:
    """A registered stylization method with its options (``size``, ``steps``, ...)."""
    from stylefuse.api import create_method

    method = create_method(name, {"device": device}, **options)
    return Candidate(name, lambda content, style, _: method.stylize(content, [style]), options)


def named_styles_candidate(folder: str | Path | None = None, name: str = "fast", loaded: Any = None,
                           wiring: dict[str, Any] | None = None, **options) -> Candidate:
    """A model folder that records its paintings (None: the built-in one; ``loaded``: its stylizer, already
    loaded; ``wiring``: the device it loads on): a painting is stylized with the named style the model learnt
    from it, or with the folder's own style(s) when it has no names (a generator, a gate, an ensemble whose
    members run their own), after ``style_sources`` in its config (:mod:`stylefuse.fusion.sources`); other
    paintings are skipped."""
    from stylefuse import hub
    from stylefuse.builtin import STYLES_FOLDER
    from stylefuse.fusion.sources import painting_styles
    from stylefuse.methods._base import STYLE_NAMES

    model = loaded or hub.load(folder or STYLES_FOLDER, **options, **(wiring or {}))
    names = list(getattr(model, "names", None) or [])
    try:
        own = [name for name, _ in model.default_styles()] if model.style_input == STYLE_NAMES else []
    except OptionError:  # several styles and no default: only named sources can run
        own = []
    style_files = painting_styles(model.document, names, own)

    def run(content: torch.Tensor, style: torch.Tensor, path: Path) -> torch.Tensor:
        styles = style_files.get(path.stem)
        if styles is None or (model.style_input == STYLE_NAMES and not styles):
            raise OptionError(f"{path.name} is not one of the model's styles")
        return model.stylize(content, styles)

    return Candidate(name, run, {**options, "model": folder_fingerprint(getattr(model, "folder", None) or folder)})


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_folder(folder: Path, size: int, report: Callable[[str], None]) -> list[tuple[Path, torch.Tensor]]:
    if not folder.is_dir():
        raise OptionError(f"{folder} is not a folder of images")
    items = []
    for path in list_image_files(folder):
        try:
            items.append((path, ops.resize_long_side(read_image(path).rgb, size).clamp(0, 1)))
        except StylefuseError as exc:
            report(f"skipped {path.name}: {exc}")
    if not items:
        raise OptionError(f"{folder} holds no readable images")
    return items


def evaluate(candidate: Candidate, contents: Path, styles: Path, out: Path, size: int = 512,
             metric_names: Sequence[str] | None = None, pairs: Sequence[tuple[str, str]] | None = None,
             distribution: bool = True, report: Callable[[str], None] = print,
             progress: bool | None = None) -> dict:
    """Stylize and measure; see the module docstring.

    Args:
        candidate: what to run.
        contents, styles: folders of photos and paintings (every pair, or only ``pairs`` of stems).
        out: the run's folder; results are cached under ``out/images/<recipe>/``.
        size: long side the photos are scaled to before stylization (and paintings for the metrics).
        metric_names: registered metrics to compute (default: all).
        pairs: restrict to these (content stem, style stem) pairs.
        distribution: compute patch FID / KID / ArtFID (needs at least 2 results).
        report: receives one line per skipped image or pair.
        progress: a bar over the pairs (None: when stderr is a terminal).
    """
    content_items, style_items = _load_folder(contents, size, report), _load_folder(styles, size, report)
    wanted = set(pairs) if pairs else None
    todo = [(c, s) for c in content_items for s in style_items if wanted is None or (c[0].stem, s[0].stem) in wanted]
    cache = ResultCache(out, candidate, size)
    metrics = {name: METRICS.create(name) for name in (metric_names or METRICS.names())}
    rows, results, references = [], [], []
    enabled = sys.stderr.isatty() if progress is None else progress
    with progress_bar(f"eval {candidate.name}", total=len(todo), enabled=enabled) as bar:
        for (content_path, content), (style_path, style) in todo:
            key = f"{content_path.stem}--{style_path.stem}"
            bar.update(status=key)
            result = cache.get(key, functools.partial(candidate.stylize, content, style, style_path), report)
            bar.update(advance=1)
            if result is None:
                continue
            row = {"content": content_path.stem, "style": style_path.stem, "image": cache.relative_path(key),
                   "seconds": cache.seconds(key)}
            row.update({name: round(float(metric(result, content, style)), 5) for name, metric in metrics.items()})
            rows.append(row)
            results.append(result)
            references.append(style)
    if not rows:
        raise OptionError("no pair was stylized")
    return _summarise(candidate, size, metrics, rows, results, references, distribution)


class ResultCache:
    """The results of one recipe (see :meth:`Candidate.recipe_key`): ``<out>/images/<recipe>/<pair>.png``
    and their latencies in ``index.json`` there."""

    def __init__(self, out: Path, candidate: Candidate, size: int) -> None:
        self.out, self.key = out, candidate.recipe_key(size)
        self.folder = out / "images" / self.key
        self.index_path = self.folder / "index.json"
        self.index = json.loads(self.index_path.read_text()) if self.index_path.is_file() else {}
        self.recipe = candidate.recipe(size)

    def relative_path(self, pair: str) -> str:
        """The result image of ``pair``, relative to ``out``."""
        return f"images/{self.key}/{pair}.png"

    def seconds(self, pair: str) -> float:
        return self.index[pair]["seconds"]

    def get(self, pair: str, compute: Callable[[], torch.Tensor],
            report: Callable[[str], None]) -> torch.Tensor | None:
        """The cached result of ``pair``, or ``compute()``'s (clamped to [0, 1]), timed and stored; None when
        it raised a :class:`StylefuseError` (reported and skipped)."""
        target = self.out / self.relative_path(pair)
        if target.is_file() and pair in self.index:
            return read_image(target).rgb
        started = time.perf_counter()
        try:
            result = compute().clamp(0, 1)
        except StylefuseError as exc:
            report(f"skipped {pair}: {exc}")
            return None
        self.index[pair] = {"seconds": round(time.perf_counter() - started, 4)}
        write_image(target, result)
        (self.folder / "recipe.json").write_text(json.dumps(self.recipe, indent=1, sort_keys=True, default=str))
        self.index_path.write_text(json.dumps(self.index, indent=1))
        return result


def _summarise(candidate: Candidate, size: int, metrics: dict, rows: list[dict], results: list[torch.Tensor],
               references: list[torch.Tensor], distribution: bool) -> dict:
    """The run's JSON: mean metrics, latency, peak memory, rows, and the distribution distances."""
    summary = {name: round(statistics.mean(row[name] for row in rows), 5) for name in [*metrics, "seconds"]}
    summary["peak_rss_mib"] = round(peak_rss_mib(), 1)
    run = {"candidate": candidate.name, "options": candidate.options, "size": size, "pairs": len(rows),
           "summary": summary, "rows": rows,
           "directions": {name: ("higher" if m.higher_is_better else "lower") for name, m in metrics.items()}}
    if distribution and len(rows) >= 2:
        from stylefuse.metrics.distribution import artfid, patch_fid_kid

        unique_styles = list({id(r): r for r in references}.values())
        run["distribution"] = patch_fid_kid(results, unique_styles)
        if "lpips_vgg16_caffe" in summary:
            run["distribution"]["artfid"] = artfid(summary["lpips_vgg16_caffe"], run["distribution"]["fid"])
    return run
