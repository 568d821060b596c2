"""GAN helpers: losses, R1, DiffAugment, the image pool, EMA and the LR schedule."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.losses.functional import gan_loss, r1_penalty
from stylefuse.train.augment import ImagePool, diff_augment, ema_update, linear_decay, make_ema


def test_gan_losses_reference_values() -> None:
    ones, zeros = torch.ones(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    assert gan_loss(ones, True, "lsgan") == 0 and gan_loss(zeros, False, "lsgan") == 0
    assert gan_loss(zeros, True, "lsgan") == 1
    assert gan_loss(zeros, True, "bce").item() == pytest.approx(0.6931, abs=1e-4)
    assert gan_loss(ones * 2, True, "hinge") == 0 and gan_loss(-ones * 2, False, "hinge") == 0
    assert gan_loss(ones * 3, True, "hinge", for_discriminator=False) == -3
    assert gan_loss([ones, zeros], True, "lsgan") == 0.5  # multi-scale: mean over scales
    with pytest.raises(ValueError, match="unknown GAN loss"):
        gan_loss(ones, True, "wgan")


def test_r1_of_a_linear_discriminator_is_its_squared_norm() -> None:
    weight = torch.tensor([1.0, -2.0, 3.0])
    x = torch.rand(4, 3, requires_grad=True)
    assert r1_penalty(x @ weight, x).item() == pytest.approx(14.0)


def test_diff_augment_is_differentiable_and_keeps_shapes() -> None:
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x * 2 - 1)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, ""), x)
    cut = diff_augment(torch.ones(8, 3, 16, 16), "cutout")
    assert (cut == 0).float().mean() > 0.1
    with pytest.raises(OptionError, match="--diff-augment rotate: unknown part 'rotate'"):
        diff_augment(x, "rotate")


def test_image_pool_mixes_history_and_round_trips() -> None:
    torch.manual_seed(0)
    pool = ImagePool(3)
    first = torch.arange(3.0).reshape(3, 1, 1, 1).expand(3, 1, 2, 2)
    assert torch.equal(pool.query(first), first)  # filling up returns the new images
    later = torch.full((20, 1, 2, 2), 9.0)
    mixed = pool.query(later)
    assert (mixed[:, 0, 0, 0] != 9).any() and (mixed[:, 0, 0, 0] == 9).any()
    other = ImagePool(3)
    other.load_state_dict(pool.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(pool.images, other.images))
    assert torch.equal(ImagePool(0).query(later), later)


def test_ema_and_lr_schedule() -> None:
    model = torch.nn.Linear(2, 2)
    ema = make_ema(model)
    with torch.no_grad():
        model.weight.add_(1.0)
    before = ema.weight.clone()
    ema_update(ema, model, decay=0.9)
    torch.testing.assert_close(ema.weight, before + 0.1)
    assert not any(p.requires_grad for p in ema.parameters())
    assert linear_decay(0, 100, 0.5) == 1 and linear_decay(50, 100, 0.5) == 1
    assert linear_decay(75, 100, 0.5) == pytest.approx(0.5) and linear_decay(100, 100, 0.5) == 0
