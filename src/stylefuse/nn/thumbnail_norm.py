"""Thumbnail instance normalisation (Chen et al. 2021, "Towards Ultra-Resolution Neural Style Transfer via
Thumbnail Instance Normalization"): a network with instance norms runs a large picture in tiles, each norm
using the mean and variance it saw on a thumbnail of the whole picture instead of the tile's own.

Instance norm makes every tile of a tiled run its own "instance": each tile gets its own contrast and tone
and their borders show as seams. Statistics taken once on a thumbnail are the whole picture's (up to the
detail a thumbnail loses), the same for every tile, so tiles agree; memory stays bounded by the tile size.

The norms are hooked from outside (forward hooks on :class:`stylefuse.nn.layers.InstanceNorm2d`), so any
network built from them works unchanged: no network code knows about thumbnails.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

from stylefuse.image import ops
from stylefuse.nn.layers import CONSTANT_SPREAD, InstanceNorm2d

Statistics = dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]
"""Each instance norm module -> (mean, variance) of its input, (B, C, 1, 1) each."""


def _norms(network: nn.Module) -> list[nn.Module]:
    norms = [module for module in network.modules() if isinstance(module, InstanceNorm2d)]
    if not norms:
        raise ValueError(f"{type(network).__name__} has no instance norm to fix")
    return norms


@torch.no_grad()
def record_statistics(network: nn.Module, run: Callable[[], object]) -> Statistics:
    """The input statistics of every instance norm of ``network`` while ``run()`` runs it once."""
    found: Statistics = {}

    def keep(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        var, mean = torch.var_mean(inputs[0].float(), dim=(2, 3), keepdim=True, unbiased=False)
        found[module] = (mean, var)

    handles = [norm.register_forward_pre_hook(keep) for norm in _norms(network)]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return found


@contextmanager
def fixed_statistics(network: nn.Module, statistics: Statistics) -> Iterator[None]:
    """Inside the block, every instance norm of ``network`` normalises with ``statistics`` (from
    :func:`record_statistics`) instead of its input's own; a map constant on the thumbnail stays 0, as
    :func:`stylefuse.nn.layers.instance_norm` makes it."""

    def normalise(module: nn.Module, inputs: tuple[torch.Tensor, ...], _: torch.Tensor) -> torch.Tensor:
        x = inputs[0]
        mean, var = (value.to(x.device, x.dtype) for value in statistics[module])
        varying = (var > CONSTANT_SPREAD**2 * (mean.square() + var)).to(x.dtype)
        y = (x - mean) * torch.rsqrt(var + module.eps) * varying
        if module.weight is not None:
            y = y * module.weight[:, None, None] + module.bias[:, None, None]
        return y

    norms = _norms(network)
    missing = [norm for norm in norms if norm not in statistics]
    if missing:
        raise ValueError(f"no statistics for {len(missing)} of the {len(norms)} instance norms")
    handles = [norm.register_forward_hook(normalise) for norm in norms]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def run_in_tiles(fn: Callable[[torch.Tensor], torch.Tensor], network: nn.Module, images: torch.Tensor,
                 tile: int = 2048, thumbnail: int = 1024, overlap: int = 64, margin: int = 128,
                 multiple: int = 8) -> torch.Tensor:
    """``fn`` (which runs ``network``) on ``images`` in overlapping tiles with thumbnail instance norm.

    Args:
        fn: (B, C, h, w) -> (B, C', h, w), fully convolutional, h and w multiples of ``multiple``.
        network: the module whose instance norms are fixed (the one ``fn`` calls).
        images: (B, C, H, W).
        tile, overlap, margin, multiple: see :func:`stylefuse.image.ops.apply_tiled`.
        thumbnail: long side of the thumbnail the statistics come from.

    Returns:
        (B, C', H, W).
    """
    small = ops.resize_long_side(images, min(thumbnail, max(images.shape[-2:])))
    statistics = record_statistics(network, lambda: ops.apply_padded(fn, small, multiple))
    with fixed_statistics(network, statistics):
        return ops.apply_tiled(fn, images, tile=tile, overlap=overlap, multiple=multiple, margin=margin)
