"""What the GAN methods share: range conversion, recipe checks, the discriminator choice and its loss."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.losses.functional import gan_loss
from stylefuse.methods._gan import GanRecipe, from_gan_range, patch_discriminator, real_fake_loss, to_gan_range
from stylefuse.nn.discriminators import MultiScaleDiscriminator, PatchDiscriminator


def test_range_conversion_round_trips_and_clamps() -> None:
    images = torch.rand(2, 3, 8, 8)
    signed = to_gan_range(images)
    assert signed.min() >= -1 and signed.max() <= 1
    torch.testing.assert_close(signed, images * 2 - 1)
    torch.testing.assert_close(from_gan_range(signed), images)
    assert from_gan_range(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]


def test_defaults_are_valid_and_options_are_checked_when_built() -> None:
    GanRecipe()
    for options, message in [(dict(size=30), "--size 30: the crop size must be a multiple of 4 from 32 up"),
                             (dict(batch_size=0), "--batch-size 0: must be >= 1"),
                             (dict(gan_loss="wgan"), "--gan-loss wgan: choose from bce, lsgan, hinge"),
                             (dict(r1=-1.0), "--r1 -1.0: must be >= 0"),
                             (dict(discriminator_scales=0), "--set discriminator_scales=0: must be >= 1"),
                             (dict(diff_augment="blur"), "blur")]:
        with pytest.raises(OptionError, match=message) as caught:
            GanRecipe(**options)
        assert "\n" not in str(caught.value)


def test_more_discriminator_scales_need_larger_crops() -> None:
    GanRecipe(size=64, discriminator_scales=2)
    with pytest.raises(OptionError, match="--set discriminator_scales=3 needs --size .* or more .*got --size 32"):
        GanRecipe(size=32, discriminator_scales=3)


def test_the_recipe_chooses_the_discriminator() -> None:
    single = patch_discriminator(GanRecipe(size=64), base=4, in_channels=6)
    assert isinstance(single, PatchDiscriminator) and single(torch.rand(1, 6, 64, 64)).ndim == 4
    multi = patch_discriminator(GanRecipe(size=64, discriminator_scales=2, spectral_norm=True), base=4)
    assert isinstance(multi, MultiScaleDiscriminator) and len(multi(torch.rand(1, 3, 64, 64))) == 2
    assert any("parametrizations" in name for name, _ in multi.named_modules())


def test_real_fake_loss_is_the_mean_of_both_halves_plus_r1() -> None:
    torch.manual_seed(0)
    discriminator = torch.nn.Conv2d(3, 1, 3)
    real, fake = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1
    for kind in ("bce", "lsgan", "hinge"):
        expected = 0.5 * (gan_loss(discriminator(real), True, kind) + gan_loss(discriminator(fake), False, kind))
        torch.testing.assert_close(real_fake_loss(discriminator, real, fake, kind), expected)
    with_r1 = real_fake_loss(discriminator, real, fake, "lsgan", r1=10.0)
    assert with_r1 > real_fake_loss(discriminator, real, fake, "lsgan")
    with_r1.backward()
    assert discriminator.weight.grad is not None and torch.isfinite(discriminator.weight.grad).all()
