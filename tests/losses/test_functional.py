"""Loss functions: gradcheck, reference values and resolution independence."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylefuse.losses import functional as LF


def _double(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, dtype=torch.float64, requires_grad=True)


def test_gradcheck_all_losses() -> None:
    torch.manual_seed(0)
    x, t = _double(1, 3, 5, 4), torch.rand(1, 3, 5, 4, dtype=torch.float64)
    target_gram = LF.gram_matrix(torch.rand(1, 3, 6, 6, dtype=torch.float64))
    mean, std = torch.rand(1, 3, dtype=torch.float64), torch.rand(1, 3, dtype=torch.float64) + 0.1
    assert torch.autograd.gradcheck(LF.gram_matrix, (x,))
    assert torch.autograd.gradcheck(lambda a: LF.content_loss(a, t), (x,))
    assert torch.autograd.gradcheck(lambda a: LF.gram_style_loss(a, target_gram), (x,))
    assert torch.autograd.gradcheck(lambda a: LF.relative_gram_error(a, target_gram), (x,))
    assert torch.autograd.gradcheck(lambda a: LF.mean_std_loss(a, mean, std), (x,))
    assert torch.autograd.gradcheck(LF.total_variation, (x,))
    other = torch.rand(1, 3, 7, 3, dtype=torch.float64)  # a different number of pixels: resampled quantiles
    assert torch.autograd.gradcheck(lambda a: LF.histogram_loss(a, other), (x,))


def test_gram_reference_value() -> None:
    features = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H*W=2
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]]) / 2.0
    torch.testing.assert_close(LF.gram_matrix(features)[0], expected)


def test_relative_errors_reference_values() -> None:
    values, target = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    # item 0: mean((0, -1)^2) / mean(1, 9) = 0.5 / 5; item 1: mean(4, 4) / mean(4, 4) = 1
    torch.testing.assert_close(LF.relative_squared_error(values, target), torch.tensor([0.1, 1.0]))
    torch.testing.assert_close(LF.relative_squared_error(values, target[:1]), torch.tensor([0.1, 1.0]))  # (1+9)/2/5
    assert LF.relative_squared_error(torch.ones(1, 2), torch.zeros(1, 2)).item() == pytest.approx(1 / LF.RELATIVE_FLOOR)
    features = torch.rand(3, 4, 5, 6)
    target_gram = LF.gram_matrix(torch.rand(3, 4, 7, 7))
    gram = LF.gram_matrix(features)
    expected = (gram - target_gram).pow(2).mean(dim=(1, 2)) / target_gram.pow(2).mean(dim=(1, 2))
    torch.testing.assert_close(LF.relative_gram_error(features, target_gram), expected)
    one_target = LF.relative_gram_error(features, target_gram[:1])  # one target for the whole batch
    torch.testing.assert_close(one_target.mean(), LF.gram_style_loss(features, target_gram[:1])
                               / target_gram[:1].pow(2).mean())
    assert LF.relative_gram_error(features, gram).abs().max() == 0


def test_losses_do_not_depend_on_resolution() -> None:
    torch.manual_seed(0)
    small = torch.rand(1, 3, 8, 8)
    tiled = small.repeat(1, 1, 3, 3)  # same statistics, 9x the pixels
    torch.testing.assert_close(LF.gram_matrix(small), LF.gram_matrix(tiled))
    torch.testing.assert_close(LF.mean_std(small)[1], LF.mean_std(tiled)[1])
    smooth = torch.rand(1, 3, 4, 4)
    up2 = F.interpolate(smooth, scale_factor=8, mode="bilinear", align_corners=True)
    up4 = F.interpolate(smooth, scale_factor=16, mode="bilinear", align_corners=True)
    ratio = LF.total_variation(up2) / LF.total_variation(up4)
    assert 3.0 < ratio < 5.0  # TV of a smooth image falls like 1/resolution^2: a mean, not a sum
    target = torch.rand(1, 3, 10, 10)
    assert LF.histogram_loss(small, target).item() == pytest.approx(LF.histogram_loss(tiled, target).item(), rel=0.05)


def test_zero_at_target_and_positive_elsewhere() -> None:
    x = torch.rand(2, 4, 6, 6)
    assert LF.content_loss(x, x) == 0
    assert LF.gram_style_loss(x, LF.gram_matrix(x)) == 0
    mean, std = LF.mean_std(x)
    assert LF.mean_std_loss(x, mean, std) == 0
    assert LF.total_variation(torch.ones(1, 3, 5, 5)) == 0
    permuted = x.flatten(2)[:, :, torch.randperm(36)].reshape_as(x)
    assert LF.histogram_loss(permuted, x) < 1e-12  # same histogram, different layout
    assert LF.histogram_loss(x, x + 0.1) > 0 and LF.content_loss(x, x + 0.1) > 0


def test_mean_std_reference_and_bad_shapes() -> None:
    x = torch.tensor([1.0, 3.0]).reshape(1, 1, 1, 2)
    mean, std = LF.mean_std(x, eps=0.0)
    assert mean.item() == 2.0 and std.item() == 1.0  # biased: divided by H W, not H W - 1
    assert LF.mean_std(x)[1].item() == pytest.approx((1 + LF.STD_EPS) ** 0.5)
    assert LF.mean_std(torch.full((1, 1, 3, 3), 5.0))[1].item() == pytest.approx(LF.STD_EPS ** 0.5)  # constant
    torch.testing.assert_close(LF.std_from_variance(torch.tensor([4.0, -1e-9]), eps=0.0), torch.tensor([2.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        LF.gram_matrix(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="differ"):
        LF.content_loss(torch.rand(1, 2, 3, 3), torch.rand(1, 2, 4, 4))
