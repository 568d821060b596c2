"""Helpers of the GAN loop: differentiable augmentation, the history image pool, EMA, LR schedule."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from stylefuse.errors import OptionError

DIFF_AUGMENT_POLICIES = ("color", "translation", "cutout")


def diff_augment(images: torch.Tensor, policy: str = "color,translation,cutout") -> torch.Tensor:
    """Differentiable augmentation applied to real and fake images alike before the discriminator, so
    that it cannot memorise a small dataset (Zhao et al. 2020, "Differentiable Augmentation for
    Data-Efficient GAN Training").

    Args:
        images: (B, C, H, W) in [-1, 1].
        policy: comma-separated subset of "color", "translation", "cutout" ("" does nothing).
    """
    parts = diff_augment_parts(policy)
    x = images
    b = x.shape[0]
    if "color" in parts:
        x = x + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + mean
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + mean
    if "translation" in parts:
        x = _translate(x, ratio=0.125)
    if "cutout" in parts:
        x = _cutout(x, ratio=0.5)
    return x


def diff_augment_parts(policy: str) -> list[str]:
    """The parts of a DiffAugment policy ("color,translation" -> ["color", "translation"]).

    Raises:
        OptionError: a part is not one of :data:`DIFF_AUGMENT_POLICIES`.
    """
    parts = [part.strip() for part in policy.split(",") if part.strip()]
    unknown = [part for part in parts if part not in DIFF_AUGMENT_POLICIES]
    if unknown:
        raise OptionError(f"--diff-augment {policy}: unknown part {unknown[0]!r}; give a comma-separated subset of "
                          f"{', '.join(DIFF_AUGMENT_POLICIES)}, or '' for none")
    return parts


def _translate(x: torch.Tensor, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    shift_y, shift_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-shift_y, shift_y + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-shift_x, shift_x + 1, (b, 1, 1), device=x.device)
    grid_y, grid_x = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    grid_y = (grid_y[None] + ty + 1).clamp(0, h + 1)
    grid_x = (grid_x[None] + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    index = (grid_y * (w + 2) + grid_x).flatten(1)
    return padded.flatten(2).gather(2, index[:, None].expand(-1, x.shape[1], -1)).reshape_as(x)


def _cutout(x: torch.Tensor, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    cut_h, cut_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - cut_h % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cut_w % 2), (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = ((ys - cy).abs() <= cut_h // 2) & ((xs - cx).abs() <= cut_w // 2)
    return x * (~inside)[:, None].to(x.dtype)


class ImagePool:
    """A history of generated images (Shrivastava et al. 2017; CycleGAN): half of the time the
    discriminator sees an older fake instead of the newest, which damps oscillation.

    Args:
        size: images kept (0 disables the pool).
    """

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch like ``images`` (B, C, H, W), mixing in stored ones; store the new ones."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                index = int(torch.randint(0, self.size, ()))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"images": torch.stack(self.images) if self.images else torch.zeros(0)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.images = list(state["images"]) if state["images"].numel() else []


def make_ema(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` to hold the exponential moving average of its weights."""
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema = decay * ema + (1 - decay) * model for parameters; buffers (norm statistics) are copied
    (Karras et al. 2018 use the EMA generator for evaluation)."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.lerp_(param, 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)


def linear_decay(step: int, total: int, decay_from: float) -> float:
    """LR factor: 1 until ``decay_from * total`` steps, then linearly down to 0 at ``total``
    (the CycleGAN schedule)."""
    start = int(total * decay_from)
    if step < start or total <= start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / (total - start))
