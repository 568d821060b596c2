"""pix2pix: depth from the crop size, its losses and validation metric, and it learns a colour inversion."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylefuse.data.folders import ImageFolder, PairedCrops
from stylefuse.image.io import write_image
from stylefuse.methods.pix2pix import Pix2Pix, Pix2PixRecipe
from stylefuse.train.loop import Trainer, TrainOptions


def test_pix2pix_learns_a_colour_inversion(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    for index in range(4):
        smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 4, 4, generator=generator), size=(32, 32),
                                                 mode="bilinear", align_corners=False)[0]
        write_image(tmp_path / "a" / f"{index}.png", smooth)
        write_image(tmp_path / "b" / f"{index}.png", 1 - smooth)
    data = PairedCrops(ImageFolder(tmp_path / "a"), ImageFolder(tmp_path / "b"), 32, batch_size=4)
    recipe = Pix2PixRecipe(size=32, depth=5, base=8)
    options = TrainOptions(steps=60, lr=2e-3, checkpoint_every=0, sample_every=0, ema_decay=None, progress=False)
    task = Pix2Pix(recipe)
    trainer = Trainer(task, data, options, tmp_path / "p2p")
    a, b = data(999)
    with torch.no_grad():
        error_before = (task.generators["G"](a * 2 - 1) - (b * 2 - 1)).abs().mean()
    trainer.fit()
    with torch.no_grad():
        error_after = (task.generators["G"].eval()(a * 2 - 1) - (b * 2 - 1)).abs().mean()
    assert error_after < 0.5 * error_before


def test_depth_follows_the_crop_size_unless_given() -> None:
    from stylefuse.errors import OptionError

    assert Pix2PixRecipe(size=128).unet_depth == 7 and Pix2PixRecipe(size=256).unet_depth == 8
    assert Pix2PixRecipe(size=64, depth=3).unet_depth == 3
    with pytest.raises(OptionError, match="--set depth=6 needs a --size that is a multiple of 64; --size 96 allows "
                                          "a depth of at most 5"):
        Pix2PixRecipe(size=96, depth=6)
    with pytest.raises(OptionError, match="--set norm=group: choose from batch, instance"):
        Pix2PixRecipe(norm="group")


def test_losses_and_validation_metric() -> None:
    import torch.nn.functional as F

    torch.manual_seed(0)
    task = Pix2Pix(Pix2PixRecipe(size=32, depth=3, base=4, lambda_l1=50.0))
    a, b = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    terms = task.generator_loss((a, b))
    generator = task.generators["G"]
    with torch.no_grad():
        fake = generator(a * 2 - 1)
    torch.testing.assert_close(terms["l1"].detach(), 50.0 * F.l1_loss(fake, b * 2 - 1))
    torch.testing.assert_close(terms["total"], terms["adversarial"] + terms["l1"])
    assert torch.isfinite(task.discriminator_loss((a, b))["total"])
    expected = F.l1_loss(((fake + 1) / 2).clamp(0, 1), b).item()
    assert task.validation_metric((a, b), generator) == pytest.approx(expected, rel=1e-5)
    assert task.samples((a, b), generator).shape == (6, 3, 32, 32)
