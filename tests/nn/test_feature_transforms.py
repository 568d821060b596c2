"""AdaIN and WCT statistics: exact matching, tiled accumulation, numerical safety."""

from __future__ import annotations

import torch

from stylefuse.nn.feature_transforms import (
    FeatureStats,
    StatsAccumulator,
    adain_affine,
    apply_affine,
    feature_stats,
    wct_matrix,
)


def _features(seed: int, channels: int = 8, size: int = 24) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(channels, channels, generator=generator)
    base = torch.randn(1, channels, size, size, generator=generator)
    return torch.einsum("ij,bjhw->bihw", mixing, base) + torch.randn(channels, generator=generator).view(1, -1, 1, 1)


def test_adain_gives_the_style_means_and_deviations() -> None:
    content, style = _features(0), _features(1) * 3
    out = apply_affine(content, *adain_affine(feature_stats(content), feature_stats(style)))
    got, want = feature_stats(out), feature_stats(style)
    assert torch.allclose(got.mean, want.mean, atol=1e-4)
    assert torch.allclose(got.std, want.std, rtol=1e-3)


def test_wct_gives_the_style_covariance() -> None:
    content, style = _features(2), _features(3)
    out = apply_affine(content, *wct_matrix(feature_stats(content), feature_stats(style)))
    got, want = feature_stats(out), feature_stats(style)
    assert torch.allclose(got.mean, want.mean, atol=1e-3)
    assert torch.allclose(got.cov, want.cov, rtol=2e-2, atol=2e-2 * want.cov.abs().max())


def test_accumulating_over_pieces_equals_the_whole() -> None:
    features = _features(4, size=30)
    accumulator = StatsAccumulator()
    for rows in (slice(0, 11), slice(11, 30)):
        accumulator.add(features[..., rows, :])
    whole = feature_stats(features)
    assert torch.allclose(accumulator.stats().mean, whole.mean)
    assert torch.allclose(accumulator.stats().cov, whole.cov, atol=1e-9)


def test_blend_of_one_style_is_that_style_and_weights_are_normalised() -> None:
    a, b = feature_stats(_features(5)), feature_stats(_features(6))
    assert torch.allclose(FeatureStats.blend([a, b], [2.0, 0.0]).cov, a.cov)
    half = FeatureStats.blend([a, b], [1.0, 1.0])
    assert torch.allclose(half.mean, (a.mean + b.mean) / 2)


def test_constant_style_and_fewer_positions_than_channels_stay_finite() -> None:
    content = _features(7, channels=16, size=2)  # 4 positions, 16 channels: a singular covariance
    flat_style = torch.full((1, 16, 8, 8), 3.0)
    for style in (flat_style, _features(8, channels=16)):
        matrix, bias = wct_matrix(feature_stats(content), feature_stats(style))
        out = apply_affine(content, matrix, bias)
        assert torch.isfinite(out).all()
        out = apply_affine(content, *adain_affine(feature_stats(content), feature_stats(style)))
        assert torch.isfinite(out).all()
    flat_out = apply_affine(content, *wct_matrix(feature_stats(content), feature_stats(flat_style)))
    assert torch.allclose(flat_out, torch.full_like(flat_out, 3.0), atol=1e-2)


def test_chunked_accumulation_matches_one_pass_in_float64() -> None:
    features = torch.randn(2, 5, 9, 7, generator=torch.Generator().manual_seed(4)) * 3 + 1
    chunked, whole = StatsAccumulator(), StatsAccumulator()
    chunked.add(features, chunk_elements=10)  # 2 positions per chunk: many chunks, a short last one
    flat = features.transpose(0, 1).reshape(5, -1).double()
    whole.add(features, chunk_elements=10**9)
    for accumulator in (chunked, whole):
        stats = accumulator.stats()
        assert torch.allclose(stats.mean, flat.mean(1), atol=1e-12)
        assert torch.allclose(stats.cov, torch.cov(flat, correction=0), atol=1e-10)
