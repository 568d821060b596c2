"""Every invalid recipe or training option is refused when it is built, with one line naming the CLI option;
the check helpers, size rules and recipe records; pix2pix and CycleGAN networks adapt their depth to any crop
size that is a multiple of 4 from 32 px up."""

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
    (lambda: TrainOptions(device="banana"), "--device 'banana' is not a device; use auto, cpu, cuda, mps"),
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


def test_option_names_are_as_the_user_types_them() -> None:
    from stylefuse.train.recipes import option_name, option_value

    assert option_name("batch_size") == "--batch-size" and option_name("lambda_cycle") == "--set lambda_cycle"
    assert option_value("size", 50) == "--size 50" and option_value("lambda_cycle", -1) == "--set lambda_cycle=-1"


def test_check_at_least_and_check_choice() -> None:
    from stylefuse.train.recipes import check_at_least, check_choice

    check_at_least("lr", 0.0, 0.0)
    with pytest.raises(OptionError, match=r"^--lr 0.0: must be > 0$"):
        check_at_least("lr", 0.0, 0.0, strict=True)
    with pytest.raises(OptionError, match=r"^--set lambda_cycle=-1: must be >= 0$"):
        check_at_least("lambda_cycle", -1, 0)
    check_choice("gan_loss", "lsgan", ["lsgan", "hinge"])
    with pytest.raises(OptionError, match=r"^--gan-loss foo: choose from lsgan, hinge$"):
        check_choice("gan_loss", "foo", ["lsgan", "hinge"])


def test_size_rules_describe_what_they_allow() -> None:
    multiple, power = SizeRule(minimum=30, multiple=8), SizeRule(minimum=16, power_of_two=True)
    assert [s for s in range(0, 60) if multiple.allows(s)] == [32, 40, 48, 56]
    assert [s for s in range(0, 300) if power.allows(s)] == [16, 32, 64, 128, 256]
    assert multiple.describe() == "a multiple of 8 from 30 up (e.g. 32, 40, 64)"
    assert power.describe() == "a power of two from 16 up (16, 32, 64, 128, ...)"
    for bad in (True, 32.0, "32"):
        with pytest.raises(OptionError, match="the crop size must be"):
            check_size(bad, SizeRule())


def test_plain_data_and_the_first_difference() -> None:
    from dataclasses import dataclass
    from pathlib import Path

    from stylefuse.train.recipes import field_defaults, first_difference, plain

    @dataclass
    class Recipe:
        size: int = 32
        betas: tuple = (0.5, 0.999)
        data: Path = Path("photos")

    assert plain(Recipe()) == {"size": 32, "betas": [0.5, 0.999], "data": "photos"}
    assert plain({1: (None, True)}) == {"1": [None, True]}
    assert first_difference({"a": 1, "b": 2}, {"a": 1, "b": 2}) is None
    assert first_difference({"a": 1, "b": 2}, {"b": 3, "a": 4}) == ("b", 2, 3)  # in the current recipe's order
    assert first_difference({"a": 1, "old": 2}, {"a": 1}) == ("old", 2, None)
    assert first_difference({"a": 1}, {"a": 1, "new": 0}) == ("new", None, 0)
    # a field added since the checkpoint was saved: at its default it is no difference, set otherwise it is
    defaults = field_defaults(Recipe(size=64))
    assert defaults == {"size": 32, "betas": [0.5, 0.999], "data": "photos"} and field_defaults("x") == {}
    assert first_difference({"size": 32}, {"size": 32, "betas": [0.5, 0.999]}, defaults) is None
    assert first_difference({"size": 32}, {"size": 32, "betas": [0.9, 0.999]}, defaults) == \
        ("betas", [0.5, 0.999], [0.9, 0.999])
