"""Evaluation runs: stylize every content x style pair with one candidate (a registered method, the
built-in styles, or an external tool), cache the results, and measure them with the registered
metrics, the distribution distances, latency and peak memory.

A run writes ``<out>/images/*.png`` (cached: an existing result is not recomputed), ``<out>/index.json``
(per-pair latency) and returns a JSON-ready dict that :mod:`stylefuse.metrics.report` renders.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from stylefuse.errors import OptionError, StylefuseError
from stylefuse.image import ops
from stylefuse.image.io import list_image_files, read_image, write_image
from stylefuse.registry import METRICS

StylizeFn = Callable[[torch.Tensor, torch.Tensor, Path], torch.Tensor]
"""(content (3, H, W), style (3, h, w), style path) -> result (3, H', W'), all in [0, 1]."""


@dataclass
class Candidate:
    """What is evaluated: a name and how it stylizes one pair."""

    name: str
    stylize: StylizeFn
    options: dict = field(default_factory=dict)


def candidate_for(method: str, model: str | Path | None = None, **options) -> Candidate:
    """The candidate of a registered method: a multi-style one (``model``, None: the built-in) runs its
    named styles (:func:`named_styles_candidate`), the others stylize with the painting itself."""
    from stylefuse.methods._base import STYLE_NAMES
    from stylefuse.registry import METHODS

    if METHODS.get(method).style_input == STYLE_NAMES:
        return named_styles_candidate(model, **options)
    if model is not None:
        raise OptionError(f"--model applies to methods with named styles, not to {method}")
    return method_candidate(method, **options)


def method_candidate(name: str, **options) -> Candidate:
    """A registered stylization method with its options (``size``, ``steps``, ...)."""
    from stylefuse.api import create_method

    method = create_method(name, **options)
    return Candidate(name, lambda content, style, _: method.stylize(content, [style]), options)


def named_styles_candidate(folder: str | Path | None = None, **options) -> Candidate:
    """A multi-style model (None: the built-in one): a painting is stylized with the named style the
    model was trained on from that painting (``style_sources`` in its config); others are skipped."""
    from stylefuse import hub
    from stylefuse.builtin import STYLES_FOLDER

    model = hub.load(folder or STYLES_FOLDER, **options)
    sources = model.document.get("style_sources") or []
    style_files = {Path(source).stem: name for source, name in zip(sources, model.names)}

    def run(content: torch.Tensor, style: torch.Tensor, path: Path) -> torch.Tensor:
        name = style_files.get(path.stem)
        if name is None:
            raise OptionError(f"{path.name} is not one of the model's styles")
        return model.stylize(content, [name])

    return Candidate(model.document.get("method", "fast"), run, options)


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
             distribution: bool = True, report: Callable[[str], None] = print) -> dict:
    """Stylize and measure; see the module docstring.

    Args:
        candidate: what to run.
        contents, styles: folders of photos and paintings (every pair, or only ``pairs`` of stems).
        out: the run's folder.
        size: long side the photos are scaled to before stylization (and paintings for the metrics).
        metric_names: registered metrics to compute (default: all).
        pairs: restrict to these (content stem, style stem) pairs.
        distribution: compute patch FID / KID / ArtFID (needs at least 2 results).
    """
    content_items, style_items = _load_folder(contents, size, report), _load_folder(styles, size, report)
    wanted = set(pairs) if pairs else None
    images_dir = out / "images"
    index_path = out / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    metrics = {name: METRICS.create(name) for name in (metric_names or METRICS.names())}
    rows, results, references = [], [], []
    for content_path, content in content_items:
        for style_path, style in style_items:
            if wanted is not None and (content_path.stem, style_path.stem) not in wanted:
                continue
            key = f"{content_path.stem}--{style_path.stem}"
            target = images_dir / f"{key}.png"
            if target.is_file() and key in index:
                result = read_image(target).rgb
            else:
                started = time.perf_counter()
                try:
                    result = candidate.stylize(content, style, style_path).clamp(0, 1)
                except StylefuseError as exc:
                    report(f"skipped {key}: {exc}")
                    continue
                index[key] = {"seconds": round(time.perf_counter() - started, 4)}
                write_image(target, result)
                out.mkdir(parents=True, exist_ok=True)
                index_path.write_text(json.dumps(index, indent=1))
            row = {"content": content_path.stem, "style": style_path.stem, "image": f"images/{key}.png",
                   "seconds": index[key]["seconds"]}
            for name, metric in metrics.items():
                row[name] = round(float(metric(result, content, style)), 5)
            rows.append(row)
            results.append(result)
            references.append(style)
    if not rows:
        raise OptionError("no pair was stylized")
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
