"""Every invalid recipe or training option is refused when it is built, with one line naming the CLI option;
pix2pix and CycleGAN networks adapt their depth to any crop size that is a multiple of 4 from 32 px up."""

from __future__ import annotations

import re

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.methods.adversarial_style import AdversarialStyleRecipe
from stylefuse.methods.cyclegan import CycleGAN, CycleGANRecipe
from stylefuse.methods.dcgan import DCGANRecipe
from stylefuse.methods.inverter import InverterRecipe
from stylefuse.methods.pix2pix import Pix2Pix, Pix2PixRecipe
from stylefuse.nn.generators import unet_depth
from stylefuse.train.loop import TrainOptions
from stylefuse.train.recipes import SizeRule, check_size


@pytest.mark.parametrize("build,expected", [
    (lambda: DCGANRecipe(size=50), "--size 50: the crop size must be a power of two from 16 up (16, 32, 64, 128"),
    (lambda: DCGANRecipe(size=100), "--size 100: the crop size must be a power of two"),
    (lambda: CycleGANRecipe(size=50), "--size 50: the crop size must be a multiple of 4 from 32 up (e.g. 32, 36, 64)"),
    (lambda: CycleGANRecipe(size=28), "--size 28: the crop size must be a multiple of 4 from 32 up"),
    (lambda: Pix2PixRecipe(size=0), "--size 0: the crop size must be a multiple of 4"),
    (lambda: AdversarialStyleRecipe(size=50), "--size 50: the crop size must be a multiple of 4"),
    (lambda: InverterRecipe(size=50), "--size 50: the crop size must be a multiple of 8 from 32 up"),
    (lambda: InverterRecipe(size=40, level="relu5_1"), "--size 40: the crop size must be a multiple of 16"),
    (lambda: CycleGANRecipe(gan_loss="foo"), "--gan-loss foo: choose from bce, lsgan, hinge"),
    (lambda: DCGANRecipe(diff_augment="blur"), "--diff-augment blur: unknown part 'blur'"),
    (lambda: CycleGANRecipe(batch_size=0), "--batch-size 0: must be >= 1"),
    (lambda: InverterRecipe(batch_size=0), "--batch-size 0: must be >= 1"),
    (lambda: CycleGANRecipe(r1=-1), "--r1 -1: must be >= 0"),
    (lambda: CycleGANRecipe(lambda_cycle=-1.0), "--set lambda_cycle=-1.0: must be >= 0"),
    (lambda: CycleGANRecipe(generator="transformer"), "--set generator=transformer: choose from resnet, unet"),
    (lambda: CycleGANRecipe(size=32, discriminator_scales=2), "--set discriminator_scales=2 needs --size 48 or more"),
    (lambda: Pix2PixRecipe(size=64, depth=7), "--set depth=7 needs a --size that is a multiple of 128; --size 64 "
                                              "allows a depth of at most 6"),
    (lambda: Pix2PixRecipe(norm="group"), "--set norm=group: choose from batch, instance"),
    (lambda: DCGANRecipe(latent=0), "--set latent=0: must be >= 1"),
    (lambda: InverterRecipe(level="relu9_1"), "--level relu9_1: choose from relu1_1"),
    (lambda: InverterRecipe(width=0), "--set width=0: must be > 0"),
    (lambda: AdversarialStyleRecipe(lam=-0.1), "--set lam=-0.1: must be >= 0"),
    (lambda: AdversarialStyleRecipe(style_layers=["relu9"]), "--set style_layers=relu9: choose from"),
    (lambda: TrainOptions(lr=-1), "--lr -1: must be > 0"),
    (lambda: TrainOptions(lr=0), "--lr 0: must be > 0"),
    (lambda: TrainOptions(steps=0), "--steps 0: must be >= 1"),
    (lambda: TrainOptions(checkpoint_every=-1), "--checkpoint-every -1: must be >= 0"),
    (lambda: TrainOptions(max_seconds=-60), "--max-minutes -1: the time budget must be > 0"),
    (lambda: TrainOptions(betas=(0.5, 1.5)), "betas (0.5, 1.5): Adam takes two values in [0, 1)"),
    (lambda: TrainOptions(device="banana"), "--device 'banana' is not a device; use cpu or cuda"),
])
def test_invalid_values_are_one_line_option_errors(build, expected) -> None:
    with pytest.raises(OptionError, match=re.escape(expected)) as caught:
        build()
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="--device cuda: no CUDA GPU is usable here; use --device cpu"):
        TrainOptions(device="cuda")


def test_defaults_are_valid() -> None:
    for recipe in (CycleGANRecipe, Pix2PixRecipe, DCGANRecipe, AdversarialStyleRecipe, InverterRecipe, TrainOptions):
        recipe()


def test_size_rules_for_other_methods() -> None:
    check_size(64, SizeRule(minimum=32, multiple=8))  # e.g. a stride-8 feed-forward stylizer
    with pytest.raises(OptionError, match="--size 60: the crop size must be a multiple of 8 from 32 up"):
        check_size(60, SizeRule(minimum=32, multiple=8))


def test_unet_depth_fits_the_crop_size() -> None:
    assert [unet_depth(size) for size in (32, 36, 64, 100, 128, 256, 512)] == [5, 2, 6, 2, 7, 8, 8]


@pytest.mark.parametrize("size", [32, 36, 44, 64, 100])
def test_pix2pix_and_cyclegan_networks_adapt_to_any_multiple_of_4(size: int) -> None:
    torch.manual_seed(0)
    pair = [torch.rand(1, 3, size, size), torch.rand(1, 3, size, size)]
    tasks = [Pix2Pix(Pix2PixRecipe(size=size, base=2)),
             CycleGAN(CycleGANRecipe(size=size, base=2, blocks=1)),
             CycleGAN(CycleGANRecipe(size=size, base=2, generator="unet"))]
    for task in tasks:
        for terms in (task.generator_loss(pair), task.discriminator_loss(pair)):
            assert torch.isfinite(terms["total"])
        assert task.generators["G"](pair[0] * 2 - 1).shape == (1, 3, size, size)
