"""CycleGAN: variants train, constant crops stay finite, bad options are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.image.io import write_image
from stylefuse.methods.cyclegan import CycleGAN, CycleGANRecipe
from stylefuse.train.loop import Trainer, TrainOptions
from tests.helpers import random_folder


def _textured_and_white(root: Path, count: int = 4) -> tuple[Path, Path]:
    """Folder ``a`` of smooth random textures, folder ``b`` of line drawings and plain white images."""
    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        coarse = torch.rand(1, 3, 6, 6, generator=generator)
        write_image(root / "a" / f"{index}.png", nn.functional.interpolate(coarse, size=(48, 48), mode="bilinear")[0])
        sketch = torch.ones(3, 48, 48)
        if index % 2:
            sketch[:, 10 + index, :] = 0
            sketch[:, :, 20 - index] = 0
        write_image(root / "b" / f"{index}.png", sketch)
    return root / "a", root / "b"


def test_cyclegan_on_data_with_constant_crops_stays_finite_for_100_steps(tmp_path: Path) -> None:
    a, b = _textured_and_white(tmp_path)
    torch.manual_seed(0)
    # 3 residual blocks (11 norm layers) are enough for plain instance norm to go non-finite on these data
    task = CycleGAN(CycleGANRecipe(size=32, blocks=3, base=4, pool=4))
    options = TrainOptions(steps=100, checkpoint_every=0, sample_every=0, log_every=0, progress=False)
    trainer = Trainer(task, UnpairedCrops([ImageFolder(a), ImageFolder(b)], 32), options,
                      tmp_path / "run")
    summary = trainer.fit()
    assert summary["steps"] == 100 and summary["skipped_steps"] == 0 and summary["state"] == "done"
    for network in (task.generators, task.discriminators, trainer.ema):
        assert all(torch.isfinite(p).all() for p in network.parameters())


@pytest.mark.parametrize("recipe", [
    CycleGANRecipe(size=64, generator="unet", base=4, discriminator_scales=2, gan_loss="hinge", spectral_norm=True),
    CycleGANRecipe(size=64, blocks=1, base=4, gan_loss="bce", r1=1.0, discriminator_scales=2),
])
def test_cyclegan_variants_train(tmp_path: Path, recipe: CycleGANRecipe) -> None:
    a = ImageFolder(random_folder(tmp_path, "a", 2, 1))
    options = TrainOptions(steps=2, checkpoint_every=0, sample_every=0, progress=False)
    task = CycleGAN(recipe)
    trainer = Trainer(task, UnpairedCrops([a, a], recipe.size), options, tmp_path / "v")
    summary = trainer.fit()
    assert summary["steps"] == 2 and summary["skipped_steps"] == 0
    export = task.export(trainer, tmp_path / "model")
    assert (export / "model.safetensors").is_file()


def test_unknown_generator_is_an_option_error() -> None:
    from stylefuse.errors import OptionError

    with pytest.raises(OptionError, match="--set generator=transformer: choose from resnet, unet"):
        CycleGAN(CycleGANRecipe(generator="transformer"))
