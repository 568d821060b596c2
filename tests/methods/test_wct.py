"""WCT: its whitening-colouring affine map, its levels and its default strength."""

from __future__ import annotations

import torch

from stylefuse.methods.adain import AdaINStylizer
from stylefuse.methods.wct import WCTStylizer


def test_each_method_has_its_own_default_strength() -> None:
    assert AdaINStylizer().strength == 1.0
    assert WCTStylizer().strength == WCTStylizer.default_strength == 0.5
    assert WCTStylizer(strength=1.0).strength == 1.0


def test_its_affine_gives_the_content_features_the_style_covariance() -> None:
    from stylefuse.nn.feature_transforms import apply_affine, feature_stats

    generator = torch.Generator().manual_seed(0)
    content = torch.randn(1, 6, 16, 16, generator=generator, dtype=torch.float64)
    mixing = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    style = torch.einsum("ij,bjhw->bihw", mixing, torch.randn(1, 6, 16, 16, generator=generator, dtype=torch.float64))
    matrix, bias = WCTStylizer().affine(feature_stats(content), feature_stats(style))
    assert matrix.shape == (6, 6) and bias.shape == (6,)
    moved = feature_stats(apply_affine(content, matrix, bias))
    target = feature_stats(style)
    torch.testing.assert_close(moved.mean, target.mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(moved.cov, target.cov, atol=1e-3, rtol=1e-3)


def test_it_works_coarse_to_fine_over_four_levels() -> None:
    assert WCTStylizer.levels == ("relu4_1", "relu3_1", "relu2_1", "relu1_1")
