"""One image-to-image network for many tasks: a shared convolutional trunk and a small adapter per task.

G(x, task) conditions on a task label as StarGAN does on a domain label (Choi et al. 2018), but through
per-task feature-wise affine tables (FiLM, Perez et al. 2018: every convolution's output is scaled by γ and
shifted by β, rows of a table indexed by the task) and per-task low-rank 1x1 residual adapters beside every
residual block (Rebuffi et al. 2017, "Learning multiple visual domains with residual adapters"). Adding a task
adds one :class:`TaskAdapter` and nothing else, so a new task is learned by training its adapter alone.

The trunk follows the efficient denoisers: it predicts a residual over its input (DnCNN, Zhang et al. 2017)
and works on 2x2 pixel blocks (pixel-unshuffled, as FFDNet, Zhang et al. 2018), with a noise-level map as an
extra input channel (FFDNet) and a quarter-resolution stage for a wider view (holes, x4 enlargement). There is
no normalisation by image statistics, so the output at a pixel depends only on its neighbourhood and tiled
inference reproduces a single pass.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from stylefuse.registry import NETWORKS

LEVEL_SCALE = 50.0
"""Noise levels (σ in 8-bit units) enter the network divided by this (σ 25 -> 0.5); 0 means unknown."""
SLOPE = 0.2
"""Negative slope of the leaky ReLUs: with plain ReLUs, the per-task β tables (shared by every pixel) can push a
whole layer below zero in a few Adam steps early in training, which then passes no gradient at all."""
MULTIPLE = 4
"""Input sizes must be multiples of this (a pixel unshuffle and a stride-2 convolution); pad otherwise."""
PHASES = (1, 4)
"""How many placements of the 2x2 pixel-unshuffle grid a forward pass may average: the trunk sees a pixel
at one position of its 2x2 block, so its output changes when the image moves by one pixel; averaging the
four one-pixel shifts (a shift ensemble, as the geometric self-ensemble of Lim et al. 2017, EDSR+) removes
most of that, at four times the cost (the quarter-size stage keeps a 4-pixel period)."""


def fill_holes(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill missing pixels from their surroundings by pull-push interpolation (Gortler et al. 1996): known
    values are averaged down a pyramid, then each level's holes take the coarser level's estimate.

    The coarsest start of :func:`smooth_fill`.

    Args:
        image: (B, 3, H, W).
        mask: (B, 1, H, W) in [0, 1], 1 = missing.
    Returns:
        (B, 3, H, W): ``image`` where known, the interpolated estimate in the holes.
    """
    known = 1 - mask
    values, weights = [image * known], [known]
    while min(values[-1].shape[-2:]) > 1:
        values.append(F.avg_pool2d(values[-1], 2, ceil_mode=True))
        weights.append(F.avg_pool2d(weights[-1], 2, ceil_mode=True))
    estimate = values[-1] / weights[-1].clamp(min=1e-6)
    for value, weight in zip(reversed(values[:-1]), reversed(weights[:-1])):
        coarse = F.interpolate(estimate, size=value.shape[-2:], mode="bilinear", align_corners=False)
        confidence = weight.clamp(max=1)
        estimate = value / weight.clamp(min=1e-6) * confidence + coarse * (1 - confidence)
    return image * known + estimate * mask


FILL_ITERATIONS = 20
"""Damped Jacobi sweeps of :func:`smooth_fill` at full size; each coarser level runs 1.5x as many (they are
4x cheaper, and long-range errors take more sweeps)."""


def laplacian(image: torch.Tensor) -> torch.Tensor:
    """The 5-point Laplacian with replicated borders, (..., H, W) -> same shape (slices: several times faster
    on the CPU than a one-channel convolution)."""
    padded = F.pad(image, [1] * 4, mode="replicate")
    return padded[..., :-2, 1:-1] + padded[..., 2:, 1:-1] + padded[..., 1:-1, :-2] + padded[..., 1:-1, 2:] - 4 * image


def smooth_fill(image: torch.Tensor, mask: torch.Tensor, iterations: int = FILL_ITERATIONS,
                min_side: int = 16) -> torch.Tensor:
    """Fill missing pixels with the smoothest surface through the known ones: Δ²u = 0 in the holes (the
    biharmonic inpainting that scikit-image's ``inpaint_biharmonic`` solves exactly, Damelin & Hoang 2018),
    solved coarse to fine: the holes of a half-size copy (pixels with under half their 2x2 block known) are
    filled first, recursively (with 1.5x the sweeps), that solution upsampled into the holes, then
    ``iterations`` damped Jacobi sweeps (ω = 1/2, which converges for the bilaplacian's spectrum in [0, 64])
    smooth them at this size.

    The network starts inpainting from this guess rather than from :func:`fill_holes` alone: on small holes it
    is as good as the exact solve, so the network only has to add detail.

    Args:
        image: (B, C, H, W).
        mask: (B, 1, H, W) in {0, 1}, 1 = missing.
    Returns:
        (B, C, H, W): ``image`` where known, the smooth estimate in the holes.
    """
    known = 1 - mask
    if min(image.shape[-2:]) >= 2 * min_side:
        weight = F.avg_pool2d(known, 2, ceil_mode=True)
        values = F.avg_pool2d(image * known, 2, ceil_mode=True) / weight.clamp(min=1e-6)
        holes = (weight < 0.5).to(image.dtype)
        coarse = smooth_fill(values * (1 - holes), holes, iterations * 3 // 2, min_side)
        estimate = image * known + F.interpolate(coarse, size=image.shape[-2:], mode="bilinear",
                                                 align_corners=False) * mask
    else:
        estimate = fill_holes(image, mask)
    for _ in range(iterations):  # Δ² = Δ(Δ), the 13-point stencil of centre weight 20: ω / 20 = 1 / 40
        estimate = estimate - laplacian(laplacian(estimate)) * (mask / 40)
    return estimate


class TaskAdapter(nn.Module):
    """The parameters of one task: FiLM γ and β for every modulated convolution and a low-rank 1x1 adapter
    (``up @ down``, ``up`` zero at first so a new adapter starts as the identity) per residual block.

    Args:
        widths: channels of each modulated convolution.
        block_widths: channels of each residual block.
        rank: rank of the 1x1 adapters (0: none).
    """

    def __init__(self, widths: Sequence[int], block_widths: Sequence[int], rank: int) -> None:
        super().__init__()
        self.gamma = nn.ParameterList([nn.Parameter(torch.ones(c)) for c in widths])
        self.beta = nn.ParameterList([nn.Parameter(torch.zeros(c)) for c in widths])
        self.down = nn.ParameterList([nn.Parameter(torch.randn(rank, c) / c**0.5) for c in block_widths])
        self.up = nn.ParameterList([nn.Parameter(torch.zeros(c, rank)) for c in block_widths])


def _fit_rank(source: torch.Tensor, target: torch.Tensor, name: str) -> torch.Tensor:
    """``source``, an adapter parameter called ``name``, cut or extended to ``target``'s rank: ``down`` rows
    (R, C) beyond the source's keep ``target``'s values, ``up`` columns (C, R) beyond it are zero."""
    if source.shape == target.shape:
        return source
    down = name.startswith("down")
    count = min(source.shape[0 if down else 1], target.shape[0 if down else 1])
    if down:
        return torch.cat([source[:count], target[count:]])
    return torch.cat([source[:, :count], torch.zeros_like(target[:, count:])], 1)


class _Tables:
    """The adapters' parameters stacked over tasks and picked per sample, for one forward pass."""

    def __init__(self, adapters: list[TaskAdapter], ids: torch.Tensor) -> None:
        self.adapters, self.ids = adapters, ids
        self.film_index = self.block_index = 0

    def _pick(self, name: str, index: int) -> torch.Tensor:
        return torch.stack([getattr(adapter, name)[index] for adapter in self.adapters])[self.ids]

    def _pick_low_rank(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(down (B, R, C), up (B, C, R)) of block ``index``, each task's zero-padded to the largest rank R (the
        padding adds nothing to ``up @ down``)."""
        rank = max(adapter.down[index].shape[0] for adapter in self.adapters)
        down = torch.stack([F.pad(a.down[index], [0, 0, 0, rank - a.down[index].shape[0]]) for a in self.adapters])
        up = torch.stack([F.pad(a.up[index], [0, rank - a.up[index].shape[1]]) for a in self.adapters])
        return down[self.ids], up[self.ids]

    def film(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W) -> γ_task · x + β_task for the next modulated convolution."""
        i, self.film_index = self.film_index, self.film_index + 1
        return x * self._pick("gamma", i)[:, :, None, None] + self._pick("beta", i)[:, :, None, None]

    def low_rank(self, x: torch.Tensor) -> torch.Tensor:
        """The next block's adapter: (B, C, H, W) -> up_task · down_task · x, same shape."""
        i, self.block_index = self.block_index, self.block_index + 1
        down, up = self._pick_low_rank(i)
        if down.shape[1] == 0:
            return torch.zeros_like(x)
        hidden = torch.einsum("bchw,brc->brhw", x, down)
        return torch.einsum("brhw,bcr->bchw", hidden, up)


class _Block(nn.Module):
    """x + FiLM(conv(LeakyReLU(FiLM(conv(x))))) + adapter(x), at constant width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, tables: _Tables) -> torch.Tensor:
        h = F.leaky_relu(tables.film(self.conv1(x)), SLOPE)
        return x + tables.film(self.conv2(h)) + tables.low_rank(x)


@NETWORKS.register("conditional_net")
class ConditionalNet(nn.Module):
    """G(x, task): a residual restoration / translation network shared by ``tasks``, one adapter each.

    Args:
        tasks: the task names, in the order of their ids.
        channels: width at half resolution.
        wide_channels: width at quarter resolution.
        blocks: residual blocks (half resolution before the quarter stage, quarter, half after).
        rank: rank of the per-task 1x1 residual adapters.
        task_ranks: ``{task: rank}`` for the tasks whose adapters have another rank than ``rank`` (added by
            :meth:`add_task`).

    Shape:
        image (B, 3, H, W) in [0, 1], task ids (B,) (or one name / id for the batch), mask (B, 1, H, W) in
        {0, 1} (1 = missing, None: nothing missing), level (B,) noise σ in 8-bit units (None or 0: unknown)
        -> (B, 3, H, W), not clamped. H and W are padded to multiples of :data:`MULTIPLE` inside. ``phases``
        (1 or 4, :data:`PHASES`): average the trunk's correction over that many placements of its pixel grid.
    """

    def __init__(self, tasks: Sequence[str] = ("denoise",), channels: int = 64, wide_channels: int = 64,
                 blocks: Sequence[int] = (3, 4, 2), rank: int = 4, task_ranks: dict[str, int] | None = None) -> None:
        super().__init__()
        if not tasks or len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must be distinct names, got {list(tasks)}")
        if len(blocks) != 3 or min(blocks) < 0:
            raise ValueError(f"blocks takes three counts >= 0 (half, quarter, half), got {list(blocks)}")
        task_ranks = dict(task_ranks or {})
        if set(task_ranks) - set(tasks) or min(task_ranks.values(), default=0) < 0:
            raise ValueError(f"task_ranks takes ranks >= 0 of some of the tasks {list(tasks)}, got {task_ranks}")
        self.tasks = list(tasks)
        self.rank = rank
        self.task_ranks = task_ranks
        self.head = nn.Conv2d(5 * 4, channels, 3, padding=1)
        self.before = nn.ModuleList(_Block(channels) for _ in range(blocks[0]))
        self.down = nn.Conv2d(channels, wide_channels, 3, stride=2, padding=1)
        self.middle = nn.ModuleList(_Block(wide_channels) for _ in range(blocks[1]))
        self.up = nn.Conv2d(wide_channels, channels * 4, 1)
        self.after = nn.ModuleList(_Block(channels) for _ in range(blocks[2]))
        self.tail = nn.Conv2d(channels, 3 * 4, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # start as the identity (plus the filled holes)
        nn.init.zeros_(self.tail.bias)
        self._widths = [channels] + [channels] * 2 * blocks[0] + [wide_channels] * (1 + 2 * blocks[1]) \
            + [channels] * (1 + 2 * blocks[2])
        self._block_widths = [channels] * blocks[0] + [wide_channels] * blocks[1] + [channels] * blocks[2]
        self.adapters = nn.ModuleDict({task: self.new_adapter(task_ranks.get(task)) for task in self.tasks})

    def new_adapter(self, rank: int | None = None) -> TaskAdapter:
        """A fresh adapter for this trunk (identity FiLM, zero low-rank updates) of ``rank`` (None: the
        network's)."""
        return TaskAdapter(self._widths, self._block_widths, self.rank if rank is None else rank)

    def add_task(self, task: str, like: str | None = None, rank: int | None = None) -> TaskAdapter:
        """Add ``task`` with a new adapter of ``rank``, a copy of task ``like``'s (None: the mean of all
        adapters), and return it (the only new parameters).

        A larger rank gives a new task more room (Hu et al. 2022 on LoRA's rank); the copy fills the first
        ranks and the rest start as zero updates. ``rank`` None takes the largest rank among the copied
        adapters, so the new task starts exactly as ``like`` (a smaller rank drops ``like``'s last ranks).
        """
        if task in self.adapters:
            raise ValueError(f"task {task!r} exists already")
        names = [like] if like is not None else list(self.tasks)
        rank = max(self.task_ranks.get(name, self.rank) for name in names) if rank is None else rank
        if rank < 0:
            raise ValueError(f"rank must be >= 0, got {rank}")
        adapter = self.new_adapter(rank).to(self.head.weight.device)
        sources = [self.adapters[name] for name in names]
        with torch.no_grad():
            for name, parameter in adapter.named_parameters():
                values = [_fit_rank(source.get_parameter(name), parameter, name) for source in sources]
                parameter.copy_(torch.stack(values).mean(0))
        self.adapters[task] = adapter
        self.tasks.append(task)
        if rank != self.rank:
            self.task_ranks[task] = rank
        return adapter

    def task_ids(self, task: torch.Tensor | int | str, count: int, device: torch.device) -> torch.Tensor:
        """Task ids (count,) from ids, one id or one name (an unknown name is a ValueError)."""
        if isinstance(task, str):
            if task not in self.tasks:
                raise ValueError(f"unknown task {task!r}; this network knows {', '.join(self.tasks)}")
            task = self.tasks.index(task)
        if isinstance(task, int):
            return torch.full((count,), task, dtype=torch.long, device=device)
        return task.to(device=device, dtype=torch.long)

    def forward(self, image: torch.Tensor, task: torch.Tensor | int | str = 0, mask: torch.Tensor | None = None,
                level: torch.Tensor | float | None = None, phases: int = 1) -> torch.Tensor:
        count, _, height, width = image.shape
        if phases not in PHASES:
            raise ValueError(f"phases must be one of {', '.join(map(str, PHASES))}, got {phases}")
        ids = self.task_ids(task, count, image.device)
        if mask is None:
            mask = image.new_zeros(count, 1, height, width)
        elif bool(mask.any()):
            image = smooth_fill(image, mask)
        if level is None:
            level = image.new_zeros(count)
        level = torch.as_tensor(level, dtype=image.dtype, device=image.device).expand(count)
        planes = torch.cat([image, mask, (level / LEVEL_SCALE).view(-1, 1, 1, 1).expand(count, 1, height, width)], 1)
        offsets = ((0, 0), (0, 1), (1, 0), (1, 1))[:phases]
        residuals = [self._residual(F.pad(planes, [dx, 0, dy, 0], mode="replicate") if dy or dx else planes, ids)
                     [..., dy:dy + height, dx:dx + width] for dy, dx in offsets]
        return image + (residuals[0] if phases == 1 else torch.stack(residuals).mean(0))

    def _residual(self, planes: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """The trunk's correction of ``planes`` (B, 5, H, W: image, mask, level) -> (B, 3, H, W)."""
        height, width = planes.shape[-2:]
        pad_h, pad_w = -height % MULTIPLE, -width % MULTIPLE
        if pad_h or pad_w:
            planes = F.pad(planes, [0, pad_w, 0, pad_h], mode="replicate")
        tables = _Tables([self.adapters[name] for name in self.tasks], ids)
        x = F.leaky_relu(tables.film(self.head(F.pixel_unshuffle(planes, 2))), SLOPE)
        for block in self.before:
            x = block(x, tables)
        skip = x
        y = F.leaky_relu(tables.film(self.down(x)), SLOPE)
        for block in self.middle:
            y = block(y, tables)
        x = skip + tables.film(F.pixel_shuffle(self.up(y), 2))
        for block in self.after:
            x = block(x, tables)
        return F.pixel_shuffle(self.tail(F.leaky_relu(x, SLOPE)), 2)[..., :height, :width]
