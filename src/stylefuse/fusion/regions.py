"""Region fusion for every method: one style, or one model folder, per region of the photo.

Methods that place styles by mask themselves (AdaIN and WCT take ``masks`` and mix at the feature level)
keep doing so. For the others each region's style runs over the whole photo, and the results are
composited with a Laplacian-pyramid blend of the region masks (:func:`stylefuse.image.laplacian.blend`), so
each region is what a single-style run gives there and the seams are blended over a width that grows with
the band's scale. Regions come as masks (one per style, or one fewer), a label image (one style per distinct
grey level, in increasing order) or ``"auto:K"`` (:mod:`.segment`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from stylefuse.errors import OptionError
from stylefuse.hub import CONFIG_FILE
from stylefuse.image import laplacian, ops
from stylefuse.image.io import Picture
from stylefuse.image.masks import label_map, label_stack, mask_stack


@dataclass
class RegionJob:
    """One job per region and how to find the regions; runs like :class:`stylefuse.api.Job`.

    Args:
        jobs: K jobs, job i for region i.
        masks: K or K - 1 mask images, or None.
        regions: ``"auto:K"``, a label image, or None (exactly one of ``masks`` and ``regions``).
    """

    jobs: list[Any]
    masks: Sequence[Any] | None = None
    regions: Any = None

    @property
    def stylizer(self) -> Any:
        """The first region's stylizer (what a front end asks about interruptions)."""
        return self.jobs[0].stylizer

    def region_masks(self, rgb: torch.Tensor) -> torch.Tensor:
        """(K, H, W) masks for a content image (3, H, W)."""
        from stylefuse.fusion.segment import auto_labels, parse_auto

        size, count = tuple(rgb.shape[-2:]), len(self.jobs)
        if self.masks:
            return mask_stack(self.masks, size, count)
        auto = parse_auto(self.regions) if isinstance(self.regions, str) else None
        labels = auto_labels(rgb, auto) if auto else label_map(self.regions, size)
        if auto and auto != count:
            raise OptionError(f"--regions auto:{auto} makes {auto} regions but {count} styles were given")
        return label_stack(labels, count)

    def run(self, content: Picture) -> Picture:
        """Each region's job on the whole picture, composited by a pyramid blend of the masks."""
        masks = self.region_masks(content.rgb)
        results = [job.run(content) for job in self.jobs]
        size = tuple(results[0].rgb.shape[-2:])
        stack = torch.stack([ops.resize(result.rgb, size) if tuple(result.rgb.shape[-2:]) != size else result.rgb
                             for result in results])
        weights = ops.resize(masks[:, None], size).clamp(0, 1) if tuple(masks.shape[-2:]) != size else masks[:, None]
        rgb = laplacian.blend(stack, weights).clamp(0, 1)
        return Picture(rgb=rgb, alpha=results[0].alpha, bit_depth=8, source=None)


def uses_regions(method: str | None, masks: Any, regions: Any) -> bool:
    """True when the work needs :class:`RegionJob`: regions given, or masks for a method without its own
    (``method`` None: model folders as styles, which have none)."""
    from stylefuse.methods._base import option_defaults
    from stylefuse.registry import METHODS

    if regions is not None and masks:
        raise OptionError("give regions either as --mask images or as --regions, not both")
    return regions is not None or method is None or "masks" not in option_defaults(METHODS.get(method))


def prepare_regions(specs: list[Any], method: str | None, model: Any, masks: Sequence[Any] | None, regions: Any,
                    wiring: Mapping[str, Any] | None = None, **settings: Any) -> RegionJob:
    """A :class:`RegionJob` with one job per style spec: a spec naming a model folder runs that model
    (with its own settings), any other spec runs ``method`` (or ``model``) with that one style.

    Args:
        specs: :class:`stylefuse.api.StyleSpec`, one per region (their weights are ignored).
        settings: what :func:`stylefuse.api.prepare` takes (strength, preserve_color, max_pixels and the
            method's options).
    """
    from stylefuse.api import prepare

    if len(specs) < 2:
        raise OptionError(f"region fusion needs one style (or model folder) per region, at least two; got "
                          f"{len(specs)}")
    common = {key: settings[key] for key in ("strength", "preserve_color", "max_pixels") if key in settings}
    jobs = []
    for spec in specs:
        if is_model_folder(spec.image):
            jobs.append(prepare(None, None, Path(spec.image), wiring=wiring, **common))
        else:
            jobs.append(prepare([spec.image], method, model, wiring=wiring, **settings))
    return RegionJob(jobs, masks, regions)


def is_model_folder(item: Any) -> bool:
    """True for a path to a folder with a config.json."""
    return isinstance(item, (str, os.PathLike)) and (Path(item) / CONFIG_FILE).is_file()
