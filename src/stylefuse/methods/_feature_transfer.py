"""What AdaIN and WCT share: encode -> transform feature statistics -> invert, at one or several VGG16
levels, with style blends, per-style masks, a style strength, style statistics cached by image hash,
and tiling with whole-image statistics for images of any size.

At each level the content's statistics are gathered over the whole image (tile by tile when it is
large), each style's transform is an affine map of the features computed from those statistics, and
the image is then encoded, transformed and inverted tile by tile with blended overlaps. Because every
tile uses the same whole-image map, tiles agree with each other and the seams vanish under the
blending.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from stylefuse.builtin import INVERTERS_FOLDER
from stylefuse.content_cache import ContentCache, pixels_key
from stylefuse.encoders.vgg import MultiLayerEncoder, cache_dir
from stylefuse.errors import OptionError
from stylefuse.hub import CONFIG_FILE, load_model, read_config
from stylefuse.image import ops
from stylefuse.image.masks import mask_stack
from stylefuse.methods._base import Stylizer
from stylefuse.nn.feature_transforms import FeatureStats, StatsAccumulator, apply_affine, feature_stats
from stylefuse.progress import progress_bar

INVERTER_FOLDER = INVERTERS_FOLDER
"""The shipped inverters, one model folder per level (relu1_1 ... relu4_1)."""

MIN_SIDE = 16


class StyleStatsCache:
    """Style statistics per (image, level, style size), in memory and on disk (a
    :class:`~stylefuse.content_cache.ContentCache`), so the same style image is encoded once whatever the number
    of calls or processes."""

    def __init__(self, folder: Path | None = None) -> None:
        self.store = ContentCache(folder)

    @property
    def folder(self) -> Path | None:
        return self.store.folder

    @folder.setter
    def folder(self, folder: Path | None) -> None:
        self.store.folder = folder

    @property
    def encodings(self) -> int:
        """How many times a style image was actually encoded (for tests and reports)."""
        return self.store.computed

    def get(self, image: torch.Tensor, level: str, size: int, encoder: MultiLayerEncoder) -> FeatureStats:
        def encode() -> dict:
            with torch.inference_mode():
                stats = feature_stats(encoder(ops.resize_long_side(image, size)[None], [level])[level])
            return {"mean": stats.mean.numpy(), "cov": stats.cov.numpy()}

        arrays = self.store.get(f"{pixels_key(image.numpy())}-{level}-{size}", encode)
        return FeatureStats(torch.from_numpy(arrays["mean"]), torch.from_numpy(arrays["cov"]))


_STYLE_CACHE = StyleStatsCache()


def default_style_cache() -> StyleStatsCache:
    """The process-wide cache, backed by ``<cache dir>/style_stats``."""
    if _STYLE_CACHE.folder is None:
        _STYLE_CACHE.folder = cache_dir() / "style_stats"
    return _STYLE_CACHE


class FeatureTransferStylizer(Stylizer):
    """Base of the feature-statistics stylizers (AdaIN, WCT); subclasses give the levels and the map.

    Args:
        size: long side of the result (None keeps the content's size).
        strength: style strength s: features are ``s·transformed + (1-s)·content``, 0..1 (default: the
            method's ``default_strength``).
        style_size: long side the style images are encoded at.
        masks: one mask per style (images or paths, the content's size, white = this style), or one
            fewer than the styles, the last style then taking what the others leave. Soft edges come
            from the masks' grey levels and their reduction to feature resolution.
        tile: images whose long side exceeds this are processed in overlapping tiles.
        overlap: pixels shared by neighbouring tiles, blended linearly.
        margin: context pixels each tile is encoded and inverted with, then cropped off, so that pixels
            near tile borders see the image rather than padding (see :func:`ops.apply_tiled`).
        border: pixels of mirrored image added around the whole image before encoding and cropped off
            after inversion (rounded up to the level's stride, at most a quarter of the short side), so that
            VGG16's zero padding, which darkens the features of the outermost pixels, falls outside the
            result: without it the result has a dark band along its edges (measurements in
            docs/benchmarks.md). Content statistics include the border: without its zero-padded edge
            features, whose deviations are large, the transform would scale them so far that they leak
            into the result through the inverter's receptive field.
        inverters: a folder holding one inverter model folder per level (named after the level, e.g.
            ``relu4_1/``), or a single inverter model folder (``stylefuse train inverter --out DIR``)
            for one of the method's levels, the other levels then using the shipped inverters.
            Default: the shipped ones.
        device: "cpu" or "cuda".
        progress: show a bar over the levels and, for tiled images, over their tiles.
    """

    levels: tuple[str, ...] = ()
    default_strength = 1.0

    def __init__(self, size: int | None = None, strength: float | None = None, style_size: int = 512,
                 masks: Sequence[Any] | None = None, tile: int = 1024, overlap: int = 64, margin: int = 64,
                 border: int = 32, inverters: str | Path | None = None, device: str = "cpu", progress: bool = False,
                 cache: StyleStatsCache | None = None) -> None:
        strength = self.default_strength if strength is None else strength
        if not 0.0 <= strength <= 1.0:
            raise OptionError(f"strength must be between 0 and 1, got {strength}")
        if size is not None and size < MIN_SIDE:
            raise OptionError(f"size must be at least {MIN_SIDE} pixels, got {size}")
        if tile < 128 or overlap < 0 or overlap >= tile // 2 or not 0 <= margin <= tile:
            raise OptionError("tile must be >= 128, overlap between 0 and tile / 2 and margin between 0 and tile")
        if not 0 <= border <= tile // 4:
            raise OptionError(f"border must be between 0 and tile / 4 ({tile // 4}), got {border}")
        self.size, self.strength, self.style_size = size, strength, style_size
        self.masks = list(masks) if masks else []
        self.tile, self.overlap, self.margin, self.border = tile, overlap, margin, border
        self.progress = progress
        self.device = torch.device(device)
        self.cache = cache or default_style_cache()
        self.inverters = {level: self._load_inverter(path, level)
                          for level, path in self.inverter_folders(inverters).items()}
        self.encoders = {level: MultiLayerEncoder([level]).to(self.device) for level in self.levels}

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> FeatureTransferStylizer:
        """The method with the inverter of a model folder (``stylefuse train inverter``) in place of the
        shipped one at its level."""
        if document["network"] != "vgg16_inverter":
            return super().from_folder(folder, document, **options)
        return cls(inverters=folder, **options)

    def inverter_folders(self, inverters: str | Path | None) -> dict[str, Path]:
        """The model folder of each level's inverter, from the ``inverters`` option (see the class)."""
        if inverters is None:
            return {level: INVERTER_FOLDER / level for level in self.levels}
        folder = Path(inverters)
        if not (folder / CONFIG_FILE).is_file():
            return {level: folder / level for level in self.levels}
        level = read_config(folder)["config"].get("level")
        if level not in self.levels:
            raise OptionError(f"{folder} holds a {level} inverter; this method inverts {', '.join(self.levels)}: "
                              f"train one with `stylefuse train inverter --level {self.levels[0]}`")
        return {name: folder if name == level else INVERTER_FOLDER / name for name in self.levels}

    def _load_inverter(self, folder: Path, level: str) -> torch.nn.Module:
        if not (folder / "config.json").is_file():
            raise OptionError(f"no {level} inverter in {folder.parent}; train one with `stylefuse train inverter "
                              f"--level {level}` or reinstall stylefuse")
        model, document = load_model(folder)
        if document["config"].get("level") != level:
            raise OptionError(f"{folder} holds a {document['config'].get('level')} inverter, not {level}")
        return model.to(self.device)

    @abstractmethod
    def affine(self, content: FeatureStats, style: FeatureStats) -> tuple[torch.Tensor, torch.Tensor]:
        """The feature map (matrix or per-channel scale, bias) taking content statistics to style ones."""

    # --- the pipeline --------------------------------------------------------------------------------

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor, styles: Sequence[torch.Tensor],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        if not styles:
            raise OptionError("at least one style image is needed")
        weights = [1.0] * len(styles) if weights is None else list(weights)
        if len(weights) != len(styles) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise OptionError("style weights must be non-negative, one per style, and not all zero")
        masks = self._prepare_masks(content, len(styles))
        image = content if self.size is None else ops.resize_long_side(content, self.size).clamp(0, 1)
        if min(image.shape[-2:]) < MIN_SIDE:
            raise OptionError(f"the content image is too small ({image.shape[-1]}x{image.shape[-2]}); "
                              f"its short side must be at least {MIN_SIDE} pixels")
        image = image[None].to(self.device)
        if masks is not None:
            masks = ops.resize(masks[None], tuple(image.shape[-2:])).clamp(0, 1).to(self.device)
        name = type(self).__name__.removesuffix("Stylizer").lower()
        with progress_bar(name, total=self.work_units(*image.shape[-2:]), enabled=self.progress) as bar:
            for level in self.levels:
                bar.update(status=level)
                style_stats = [self.cache.get(style.cpu(), level, self.style_size, self.encoders[level].cpu())
                               for style in styles]
                self.encoders[level].to(self.device)
                image = self._transfer_level(image, level, style_stats, weights, masks, bar).clamp(0, 1)
        return image[0].cpu()

    def work_units(self, height: int, width: int) -> int:
        """Steps of the progress bar for a (height, width) result: one per level, or, when the image is
        tiled, one per tile of the statistics pass and one per tile of the transfer (of the image with its
        border)."""
        if max(height, width) <= self.tile:
            return len(self.levels)
        total = 0
        for level in self.levels:
            scale = self.inverters[level].scale
            border = 2 * self.border_for(scale, height, width)
            total += (len(ops.split_evenly(height + border, self.tile, scale))
                      * len(ops.split_evenly(width + border, self.tile, scale)))
            total += (len(ops.overlapping_tiles(height + border, self.tile, self.overlap, scale))
                      * len(ops.overlapping_tiles(width + border, self.tile, self.overlap, scale)))
        return total

    def border_for(self, scale: int, height: int, width: int) -> int:
        """The mirrored border of a (height, width) image at a level of stride ``scale``: :attr:`border`
        rounded up to a multiple of the stride (so the image starts on the feature grid), but at most a
        quarter of the image's short side, rounded down: a mirror blurs ramps that run into the edge (the
        inverter sees their fold), which on small images would reach most of the picture."""
        wanted = -(-self.border // scale) * scale
        return min(wanted, min(height, width) // 4 // scale * scale)

    def _prepare_masks(self, content: torch.Tensor, count: int) -> torch.Tensor | None:
        """(K, H, W) masks in [0, 1] at the content's size, K = number of styles, summing to <= 1."""
        return mask_stack(self.masks, tuple(content.shape[-2:]), count) if self.masks else None

    def _transfer_level(self, image: torch.Tensor, level: str, style_stats: list[FeatureStats],
                        weights: list[float], masks: torch.Tensor | None, bar) -> torch.Tensor:
        encoder, inverter, scale = self.encoders[level], self.inverters[level], self.inverters[level].scale
        border = self.border_for(scale, *image.shape[-2:])
        inputs = ops.reflect_border(image if masks is None else torch.cat([image, masks], dim=1), border)
        if max(image.shape[-2:]) <= self.tile:  # one piece: encode once, for the statistics and the transform
            height, width = inputs.shape[-2:]
            padded = ops.pad_to_multiple(inputs, scale)
            features = encoder(padded[:, :3], [level])[level]
            maps = self._maps(feature_stats(features), style_stats, weights, masks is not None)
            result = inverter(self._transform(features, maps, padded[:, 3:]))[..., :height, :width]
            bar.update(advance=1)
            return ops.crop_border(result, border)
        maps = self._maps(self._content_stats(inputs[:, :3], level, bar), style_stats, weights, masks is not None)

        def run(tile: torch.Tensor) -> torch.Tensor:
            result = inverter(self._transform(encoder(tile[:, :3], [level])[level], maps, tile[:, 3:]))
            bar.update(advance=1)
            return result

        result = ops.apply_tiled(run, inputs, tile=self.tile, overlap=self.overlap, multiple=scale, margin=self.margin)
        return ops.crop_border(result, border)

    def _maps(self, content: FeatureStats, style_stats: list[FeatureStats], weights: list[float],
              masked: bool) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One affine map for the blend of the styles, or one per style when masks place them."""
        if not masked:
            return [self.affine(content, FeatureStats.blend(style_stats, weights))]
        return [self.affine(content, stats) for stats in style_stats]

    def _transform(self, features: torch.Tensor, maps: list[tuple[torch.Tensor, torch.Tensor]],
                   masks: torch.Tensor) -> torch.Tensor:
        """Apply the maps to features (B, C, h, w) (each where its mask (B, K, H, W) says, when there are
        masks), then mix with the untouched features by the strength. In place where it can be: at
        relu1_1 a 1024 px tile's features take 340 MB, and each temporary as much again."""
        if masks.shape[1] == 0:
            transformed = apply_affine(features, *maps[0])
        else:
            weights_map = F.interpolate(masks, size=features.shape[-2:], mode="area")
            transformed = features * (1 - weights_map.sum(1, keepdim=True))
            for index, (matrix, bias) in enumerate(maps):
                transformed.addcmul_(weights_map[:, index:index + 1], apply_affine(features, matrix, bias))
        return transformed if self.strength == 1 else transformed.lerp_(features, 1 - self.strength)

    def _content_stats(self, image: torch.Tensor, level: str, bar) -> FeatureStats:
        """Whole-image feature statistics, gathered tile by tile: each tile is encoded with a margin of
        context around it and contributes only the features of the region it owns, so the result is
        close to the statistics of a single pass over the whole image."""
        encoder, scale = self.encoders[level], self.inverters[level].scale
        height, width = image.shape[-2:]
        margin = max(self.overlap, 2 * scale) // scale * scale
        accumulator = StatsAccumulator()
        for top, bottom in ops.split_evenly(height, self.tile, scale):
            for left, right in ops.split_evenly(width, self.tile, scale):
                y0, x0 = max(0, top - margin), max(0, left - margin)
                crop = image[..., y0:min(height, bottom + margin), x0:min(width, right + margin)]
                features = encoder(crop, [level])[level]
                owned = features[..., (top - y0) // scale:(bottom - y0) // scale,
                                 (left - x0) // scale:(right - x0) // scale]
                if owned.numel():
                    accumulator.add(owned)
                bar.update(advance=1)
        return accumulator.stats()
