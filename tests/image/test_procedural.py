"""Procedural style domains: ranges, shapes, determinism, and that each filter changes a photo the way
its style should (sketch: grey paper with dark lines on edges; cartoon: few colours; oil: flat patches
that keep strong edges)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylefuse.image.pointillism import pointillism
from stylefuse.image.procedural import DOMAINS, cartoon, gaussian_blur, oil, sketch


def _photo(size: int = 64, seed: int = 0) -> torch.Tensor:
    """A smooth random colour field, like a photo's low frequencies."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 6, generator=generator)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0].clamp(0, 1)


def _step(size: int = 48, noise: float = 0.0) -> torch.Tensor:
    """Dark left half, bright right half (a vertical edge at size // 2), plus seeded Gaussian noise."""
    image = torch.full((3, size, size), 0.2)
    image[:, :, size // 2:] = 0.8
    noisy = image + noise * torch.randn(image.shape, generator=torch.Generator().manual_seed(1))
    return noisy.clamp(0, 1)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_every_domain_keeps_shape_and_range_and_is_deterministic(name: str) -> None:
    photo = F.interpolate(_photo()[None], size=(40, 56))[0]  # not square
    first, second = DOMAINS[name](photo), DOMAINS[name](photo.clone())
    assert first.shape == photo.shape and first.dtype == photo.dtype
    assert 0 <= first.min() and first.max() <= 1
    assert torch.equal(first, second)
    assert not torch.allclose(first, photo, atol=0.02)  # the style changes the picture


def test_domains_registry_reuses_the_pointillism_filter() -> None:
    assert set(DOMAINS) == {"sketch", "cartoon", "oil", "pointillism"}
    assert DOMAINS["pointillism"] is pointillism


def test_sketch_is_grey_paper_with_dark_lines_on_edges() -> None:
    out = sketch(_step())
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])  # grey
    edge, flat_dark, flat_bright = out[0, :, 21:24], out[0, :, 2:14], out[0, :, 34:46]
    assert edge.min() < 0.2  # a dark line on the dark side of the edge
    assert flat_bright.min() == 1.0  # white paper where nothing happens
    assert flat_dark.mean() > 0.9  # a mid-dark flat tone (0.2 > epsilon) stays paper: lines, not fills


def test_sketch_refuses_a_batch() -> None:
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        sketch(torch.rand(1, 3, 16, 16))


def test_cartoon_has_few_colours_and_black_edges() -> None:
    photo = _photo()
    out = cartoon(photo, levels=4)
    colours = torch.unique(out.reshape(3, -1).T, dim=0)
    assert len(colours) <= 4**3 + 1
    assert len(torch.unique(photo.reshape(3, -1).T, dim=0)) > 1000  # the photo had thousands
    step = cartoon(_step())
    assert step[:, :, 21:24].amax(0).min() == 0  # a black line along the edge
    assert torch.equal(step[:, :, 2:14], torch.full_like(step[:, :, 2:14], 0.2))  # 0.2 is on the 6-level grid


def test_cartoon_refuses_one_level() -> None:
    with pytest.raises(ValueError, match="levels"):
        cartoon(_photo(16), levels=1)


def test_oil_flattens_texture_but_keeps_a_strong_edge() -> None:
    noisy = _step(noise=0.08)
    out = oil(noisy)
    left, right = out[:, 4:-4, 4:20], out[:, 4:-4, 28:44]
    assert left.std() < 0.4 * noisy[:, 4:-4, 4:20].std() and right.std() < 0.4 * noisy[:, 4:-4, 28:44].std()
    profile = out.mean(dim=(0, 1))  # mean across rows: the edge stays a one-pixel jump
    assert profile[23] < 0.25 and profile[24] > 0.75
    blurred = gaussian_blur(noisy[None], 2.0)[0].mean(dim=(0, 1))  # where a Gaussian blur makes a ramp
    assert 0.35 < blurred[23] < blurred[24] < 0.65


def test_gaussian_blur_keeps_constants_and_the_mean() -> None:
    constant = torch.full((1, 3, 9, 9), 0.3)
    assert torch.allclose(gaussian_blur(constant, 1.5), constant)
    image = torch.rand(1, 1, 20, 20, generator=torch.Generator().manual_seed(0))
    assert gaussian_blur(image, 1.0).std() < image.std()
    assert torch.equal(gaussian_blur(image, 0), image)
