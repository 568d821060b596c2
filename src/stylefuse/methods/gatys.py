"""Optimisation-based neural style transfer (Gatys, Ecker & Bethge 2016, "Image Style Transfer Using
Convolutional Neural Networks"), made faster by a coarse-to-fine pyramid.

The image (by default the bands of its Laplacian pyramid, :mod:`stylefuse.image.laplacian`) is
optimised to minimise α·content + β·style + γ·TV over VGG16 features. Most of the work happens at low
resolution, where a step costs a fraction of a full-size one: each level starts
from the upsampled result of the previous one, so the full-size level only refines details (the
multi-scale scheme of Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from stylefuse.errors import OptionError
from stylefuse.image import laplacian, ops
from stylefuse.losses.perceptual import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, LossTerms, StyleTransferLoss
from stylefuse.methods._base import Stylizer
from stylefuse.progress import progress_bar
from stylefuse.registry import METHODS

MIN_SIDE = 16
"""Shortest side, in pixels, of every image VGG16 sees (result, pyramid levels and style images)."""
INITS = ("content", "noise", "style", "adain")
OPTIMIZERS = ("lbfgs", "adam")
PARAMETERIZATIONS = ("laplacian", "pixels")
LAPLACIAN_GAIN = 0.7
"""Band k of the Laplacian parameterisation is scaled by 0.7**k (gain 1: the plain pyramid): coarse bands
move faster than fine ones, which speeds the first L-BFGS steps far more than the tail; larger gains let
the coarse bands overshoot (measurements in docs/benchmarks.md)."""


@dataclass
class StepReport:
    """What a callback sees after every loss evaluation."""

    level: int
    levels: int
    step: int
    terms: LossTerms
    image: torch.Tensor


@METHODS.register("gatys")
class GatysStylizer(Stylizer):
    """Gatys style transfer: optimise an image, as the bands of its Laplacian pyramid or as pixels.

    Args:
        size: long side of the result in pixels (None keeps the content's size).
        steps: optimiser steps at the full-size level; coarser levels get ``coarse_steps`` each.
        coarse_steps: steps at each coarser level (None: half of ``steps``). Coarse steps are cheap (a
            quarter of the cost per halving) and set the large-scale layout of the strokes; the
            full-size level then matches the fine-scale statistics.
        levels: pyramid levels (1 = single scale); None picks as many as keep the coarsest level's
            long side >= ``min_level_size``.
        min_level_size: smallest long side of the automatic pyramid.
        content_weight (α), style_weight (β), tv_weight (γ): loss weights; the terms are relative
            errors (see :class:`StyleTransferLoss`), so these do not depend on the images.
        content_layers, style_layers: VGG16 layers for the two terms.
        optimizer: "lbfgs" (default, Gatys et al.) or "adam".
        parameterization: "laplacian" (default) optimises the bands of a Laplacian pyramid of the
            image (:mod:`stylefuse.image.laplacian`), which with L-BFGS lowers the loss faster in the
            first steps than "pixels" (see :data:`LAPLACIAN_GAIN`).
        lr: step size (L-BFGS: 1; Adam: in pixel units of [0, 1], the most one step can move a pixel
            through all bands together).
        init: start from the "content" image, uniform "noise", the "style" image, or the "adain"
            result (Huang & Belongie 2017: the style statistics are then already close, which lowers
            the loss of the first steps; see docs/benchmarks.md).
        style_scale: size of the style image relative to the result's long side.
        pooling: VGG pooling, "max" or "avg".
        seed: random seed (noise init); results are deterministic on a given machine.
        progress: show a progress bar.
        callback: called with a :class:`StepReport` after every loss evaluation.
    """

    def __init__(self, size: int | None = 512, steps: int = 100, coarse_steps: int | None = None,
                 levels: int | None = None, min_level_size: int = 128,
                 content_weight: float = 1.0, style_weight: float = 10.0, tv_weight: float = 0.0,
                 content_layers: Sequence[str] = DEFAULT_CONTENT_LAYERS,
                 style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
                 optimizer: str = "lbfgs", parameterization: str = "laplacian", lr: float | None = None,
                 init: str = "content",
                 style_scale: float = 1.0, pooling: str = "max", seed: int = 0, progress: bool = False,
                 callback: Callable[[StepReport], None] | None = None) -> None:
        if optimizer not in OPTIMIZERS:
            raise OptionError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if parameterization not in PARAMETERIZATIONS:
            raise OptionError(f"unknown parameterization {parameterization!r}; "
                              f"choose one of {', '.join(PARAMETERIZATIONS)}")
        if init not in INITS:
            raise OptionError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if steps < 1 or (coarse_steps is not None and coarse_steps < 0):
            raise OptionError("steps must be >= 1 (and coarse steps >= 0)")
        if size is not None and size < MIN_SIDE:
            raise OptionError(f"size must be at least {MIN_SIDE} pixels, got {size}")
        if levels is not None and levels < 1:
            raise OptionError(f"levels must be >= 1, got {levels}")
        if style_scale <= 0:
            raise OptionError(f"style scale must be > 0, got {style_scale}")
        if lr is not None and lr <= 0:
            raise OptionError(f"lr must be > 0, got {lr}")
        self.size, self.steps = size, steps
        self.coarse_steps = max(1, steps // 2) if coarse_steps is None else coarse_steps
        self.levels, self.min_level_size = levels, min_level_size
        self.optimizer, self.parameterization = optimizer, parameterization
        self.init, self.style_scale, self.seed = init, style_scale, seed
        self.lr = lr if lr is not None else (1.0 if optimizer == "lbfgs" else 0.02)
        self.progress, self.callback = progress, callback
        try:
            self.loss = StyleTransferLoss(content_layers=content_layers, style_layers=style_layers,
                                          content_weight=content_weight, style_weight=style_weight,
                                          tv_weight=tv_weight, pooling=pooling)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
        self.interrupted = False

    @staticmethod
    def max_levels(height: int, width: int) -> int:
        """The most pyramid levels a (height, width) result allows: each halves the size, and the
        coarsest level's short side must stay >= :data:`MIN_SIDE`."""
        levels = 1
        while min(height, width) / 2**levels >= MIN_SIDE:
            levels += 1
        return levels

    def level_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """Pyramid sizes for a result of (height, width), coarsest first."""
        most = self.max_levels(height, width)
        if self.levels is not None and self.levels > most:
            raise OptionError(f"{self.levels} pyramid levels are too many for a {width}x{height} result: at most "
                              f"{most} (the coarsest level needs {MIN_SIDE} px on its short side); lower --levels "
                              "or raise --size")
        levels = self.levels
        if levels is None:
            levels = 1
            while levels < most and max(height, width) / 2**levels >= self.min_level_size:
                levels += 1
        return ops.pyramid_sizes(height, width, levels)

    def _check_styles(self, styles: Sequence[torch.Tensor], coarsest: tuple[int, int]) -> None:
        """Refuse style images that would be scaled below :data:`MIN_SIDE` at the coarsest level."""
        long_side = max(1, round(max(coarsest) * self.style_scale))
        for style in styles:
            height, width = ops.size_for_long_side(*style.shape[-2:], long_side)
            if min(height, width) < MIN_SIDE:
                raise OptionError(f"a style image would be scaled to {width}x{height} at the coarsest pyramid level; "
                                  f"VGG16 needs {MIN_SIDE} px on the short side: raise --style-scale or --size, "
                                  "lower --levels, or use a less elongated style image")

    def stylize(self, content: torch.Tensor, styles: Sequence[torch.Tensor],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Stylize ``content`` (3, H, W) with ``styles`` (each (3, h, w), blended by ``weights``).

        Returns:
            (3, H', W') in [0, 1], H' x W' being the content's size scaled to ``size``. After Ctrl-C the
            best image so far is returned and ``self.interrupted`` is set.
        """
        torch.manual_seed(self.seed)
        self.interrupted = False
        height, width = content.shape[-2:]
        if self.size is not None:
            height, width = ops.size_for_long_side(height, width, self.size)
        if min(height, width) < MIN_SIDE:
            raise OptionError(f"the result would be {width}x{height}; VGG16 needs at least {MIN_SIDE} px on the short "
                              "side: raise --size")
        sizes = self.level_sizes(height, width)
        self._check_styles(styles, sizes[0])
        step_counts = [self.coarse_steps] * (len(sizes) - 1) + [self.steps]
        image = None
        with progress_bar("gatys", total=sum(step_counts), enabled=self.progress) as bar:
            for level, (level_size, steps) in enumerate(zip(sizes, step_counts)):
                level_content = ops.resize(content, level_size)[None]
                style_long_side = max(1, round(max(level_size) * self.style_scale))
                self.loss.set_content(level_content)
                self.loss.set_style([ops.resize_long_side(s, style_long_side)[None] for s in styles], weights)
                image = (self._initial_image(level_content, styles, weights) if image is None
                         else ops.resize(image, level_size))
                image = self._optimize(image, steps, level, len(sizes), bar)
                if self.interrupted:
                    return ops.resize(image, (height, width))[0]
        return image[0]

    def _initial_image(self, content: torch.Tensor, styles: Sequence[torch.Tensor],
                       weights: Sequence[float] | None) -> torch.Tensor:
        if self.init == "adain":
            from stylefuse.methods.adain import AdaINStylizer

            return AdaINStylizer(style_size=max(content.shape[-2:])).stylize(content[0], styles, weights)[None]
        if self.init == "noise":
            return torch.rand_like(content)
        if self.init == "style":
            return ops.resize(styles[0], tuple(content.shape[-2:]))[None]
        return content.clone()

    def _optimize(self, start: torch.Tensor, steps: int, level: int, levels: int, bar) -> torch.Tensor:
        """Run ``steps`` optimiser steps from ``start`` (1, 3, h, w); return the best image seen."""
        params, synthesize = self._parameters(start)
        if self.optimizer == "lbfgs":
            # max_iter=1 per call keeps L-BFGS's history across calls at one loss evaluation per step,
            # which lets us report progress and stop cleanly on Ctrl-C.
            optimizer = torch.optim.LBFGS(params, lr=self.lr, max_iter=1, history_size=50)
        else:
            # Adam moves every band coefficient by about lr; a pixel sums band k times gain**k
            optimizer = torch.optim.Adam(params, lr=self.lr / sum(LAPLACIAN_GAIN**k for k in range(len(params))))
        best: dict = {"loss": float("inf"), "image": start.clone(), "terms": None}

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            # The loss is taken on the clamped image, so it is exactly the loss of what is returned.
            image = synthesize().clamp(0, 1)
            terms = self.loss(image)
            total = terms.total
            total.backward()
            if total.item() < best["loss"]:
                best["loss"], best["image"] = total.item(), image.detach().clone()
                best["terms"] = LossTerms(terms.content.detach(), terms.style.detach(), terms.tv.detach())
            return total

        try:
            for step in range(steps):
                total = optimizer.step(closure)
                bar.update(advance=1, status=f"level {level + 1}/{levels} loss {float(total.detach()):.4g}")
                if self.callback is not None:
                    self.callback(StepReport(level, levels, step, best["terms"], best["image"]))
        except KeyboardInterrupt:
            self.interrupted = True
        return best["image"]

    def _parameters(self, start: torch.Tensor) -> tuple[list[torch.Tensor], Callable[[], torch.Tensor]]:
        """The tensors to optimise for an image ``start`` (1, 3, h, w), and the function that turns
        them into the image."""
        # L-BFGS flattens gradients with view(): they, and so the parameters, must be contiguous (a 1x1
        # image read from a file is resized into a channels-last tensor)
        start = start.contiguous()
        if self.parameterization == "pixels":
            pixels = start.clone().requires_grad_(True)
            return [pixels], lambda: pixels
        band_count = laplacian.pyramid_levels(*start.shape[-2:])
        bands = laplacian.decompose(start, band_count, LAPLACIAN_GAIN)
        bands = [band.contiguous().requires_grad_(True) for band in bands]
        return bands, lambda: laplacian.synthesize(bands, LAPLACIAN_GAIN)
