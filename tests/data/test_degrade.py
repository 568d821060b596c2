"""Synthetic degradations: deterministic per seed, the right statistics and shapes."""

from __future__ import annotations

import pytest
import torch

from stylefuse.data.degrade import DEGRADATIONS, bicubic_degrade, denoise, enhance, inpaint, random_masks


def _clean(count: int = 4, size: int = 48) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = torch.stack([x, y, 0.5 + 0.3 * torch.sin(12 * x) * torch.cos(9 * y)]).clamp(0, 1)
    return image.expand(count, -1, -1, -1).clone()


@pytest.mark.parametrize("task", sorted(DEGRADATIONS))
def test_same_seed_same_batch_and_shapes(task: str) -> None:
    clean = _clean()
    first = DEGRADATIONS[task](clean, torch.Generator().manual_seed(3))
    again = DEGRADATIONS[task](clean, torch.Generator().manual_seed(3))
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    assert first.input.shape == first.target.shape == clean.shape
    assert first.mask.shape == (4, 1, 48, 48) and first.level.shape == (4,)
    assert torch.equal(first.target, clean)
    assert 0 <= first.input.min() and first.input.max() <= 1
    assert torch.equal(first.input, (first.input * 255).round() / 255)  # 8-bit levels
    if task in ("denoise", "inpaint", "enhance", "impulse"):
        other = DEGRADATIONS[task](clean, torch.Generator().manual_seed(4))
        assert not torch.equal(first.input, other.input)


@pytest.mark.parametrize("sigma", [15, 25, 50])
def test_gaussian_noise_has_the_asked_sigma(sigma: float) -> None:
    clean = torch.full((2, 3, 64, 64), 0.5)
    pair = denoise(clean, torch.Generator().manual_seed(0), sigma=sigma)
    measured = float((pair.input - clean).std() * 255)
    assert abs(measured - sigma) < 0.05 * sigma + 0.5
    assert torch.equal(pair.level, torch.full((2,), float(sigma)))


def test_random_noise_levels_and_poisson_share() -> None:
    pair = denoise(torch.full((200, 3, 8, 8), 0.5), torch.Generator().manual_seed(0))
    gaussian = pair.level > 0
    assert 0.1 < 1 - gaussian.float().mean() < 0.3  # Poisson samples report no level
    assert 5 <= pair.level[gaussian].min() and pair.level.max() <= 55


def test_bicubic_degradation_keeps_flat_images_and_loses_detail() -> None:
    flat = torch.full((1, 3, 32, 32), 0.4)
    assert torch.allclose(bicubic_degrade(flat, 2), flat, atol=1 / 255)
    stripes = (torch.arange(32) % 2).float().expand(1, 3, 32, 32)
    assert (bicubic_degrade(stripes, 2) - stripes).abs().mean() > 0.3
    assert (bicubic_degrade(_clean(1), 4) - _clean(1)).abs().mean() > (bicubic_degrade(_clean(1), 2)
                                                                       - _clean(1)).abs().mean()


def test_inpaint_zeroes_the_holes_and_returns_the_mask() -> None:
    clean = _clean(6)
    pair = inpaint(clean, torch.Generator().manual_seed(1))
    assert set(pair.mask.unique().tolist()) <= {0.0, 1.0}
    assert (pair.input[pair.mask.expand_as(clean) > 0] == 0).all()
    assert torch.allclose(pair.input, clean * (1 - pair.mask), atol=0.5 / 255)
    share = pair.mask.mean(dim=(1, 2, 3))
    assert (share > 0.005).all() and (share < 0.8).all()
    masks = random_masks(30, 40, 40, torch.Generator().manual_seed(2))
    assert len({round(float(m.mean()), 3) for m in masks}) > 20  # varied holes


def test_enhance_darkens() -> None:
    clean = _clean(8)
    pair = enhance(clean, torch.Generator().manual_seed(0))
    ratio = pair.input.mean(dim=(1, 2, 3)) / clean.mean(dim=(1, 2, 3))
    assert (ratio < 0.5).all() and (ratio > 0.01).all()
