"""CycleGAN: its loss terms, variants train, constant crops stay finite, bad options are refused, U-Net folders
load as its stylizer."""

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


def test_generator_loss_terms_and_their_weights() -> None:
    import torch.nn.functional as F

    torch.manual_seed(0)
    recipe = CycleGANRecipe(size=32, blocks=1, base=4, lambda_cycle=4.0, lambda_identity=0.25)
    task = CycleGAN(recipe)
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    terms = task.generator_loss([a, b])
    assert set(terms) == {"adversarial", "cycle", "identity", "total"}
    torch.testing.assert_close(terms["total"], terms["adversarial"] + terms["cycle"] + terms["identity"])
    g_ab, g_ba = task.generators["G"], task.generators["G_ba"]
    sa, sb = a * 2 - 1, b * 2 - 1
    with torch.no_grad():
        cycle = F.l1_loss(g_ba(g_ab(sa)), sa) + F.l1_loss(g_ab(g_ba(sb)), sb)
        identity = F.l1_loss(g_ab(sb), sb) + F.l1_loss(g_ba(sa), sa)
    torch.testing.assert_close(terms["cycle"].detach(), 4.0 * cycle)
    torch.testing.assert_close(terms["identity"].detach(), 0.25 * 4.0 * identity)
    without = CycleGAN(CycleGANRecipe(size=32, blocks=1, base=4, lambda_identity=0.0)).generator_loss([a, b])
    assert "identity" not in without
    d_terms = task.discriminator_loss([a, b])
    torch.testing.assert_close(d_terms["total"], d_terms["D_a"] + d_terms["D_b"])


def test_a_unet_cyclegan_goes_down_to_one_pixel_and_loads_as_its_stylizer(tmp_path) -> None:
    from stylefuse import hub
    from stylefuse.hub import save_model
    from stylefuse.methods.cyclegan import CycleGANStylizer

    task = CycleGAN(CycleGANRecipe(size=64, generator="unet", base=4))
    assert task.network_name == "unet_generator" and task.network_config["depth"] == 6  # 64 px / 2^6 = 1 px
    save_model(task.generators["G"], tmp_path / "m", task.network_name, task.network_config,
               extra={"method": "cyclegan"})
    stylizer = hub.load(tmp_path / "m")
    assert isinstance(stylizer, CycleGANStylizer)
    assert stylizer.stylize(torch.rand(3, 40, 50)).shape == (3, 40, 50)
