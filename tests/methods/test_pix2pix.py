"""pix2pix: learns a colour inversion on tiny paired data."""

from __future__ import annotations

from pathlib import Path

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
