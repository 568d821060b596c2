"""DCGAN: recipe checks, a training step, and the sampler's shapes, range and seed determinism."""

from __future__ import annotations

import pytest
import torch

from stylefuse import hub
from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.methods.dcgan import DCGAN, DCGANRecipe, DCGANSampler
from stylefuse.nn.generators import DCGANGenerator


@pytest.fixture
def folder(tmp_path):
    config = dict(latent=8, size=16, base=4, init="kaiming")  # outputs that vary
    torch.manual_seed(0)
    return save_model(DCGANGenerator(**config), tmp_path / "dcgan", "dcgan_generator", config,
                      extra={"method": "dcgan"})


def test_generate_shapes_range_and_seed_determinism(folder) -> None:
    sampler = DCGANSampler(folder)
    images = sampler.generate(3, seed=1)
    assert images.shape == (3, 3, 16, 16) and 0 <= images.min() and images.max() <= 1
    assert torch.equal(images, sampler.generate(3, seed=1))
    assert not torch.equal(images, sampler.generate(3, seed=2))
    assert images.std() > 0.05
    assert not sampler.network.training  # batch norm uses its running statistics, not the batch's


def test_hub_load_gives_the_sampler_which_refuses_to_stylize(folder) -> None:
    sampler = hub.load(folder)
    assert isinstance(sampler, DCGANSampler)
    with pytest.raises(OptionError, match="generates images from noise: use `stylefuse generate --model`"):
        sampler.stylize(torch.rand(3, 16, 16))
    with pytest.raises(OptionError, match="-n must be at least 1, got 0"):
        sampler.generate(0)


def test_recipe_checks() -> None:
    assert DCGANRecipe().gan_loss == "bce" and DCGANRecipe().size == 64
    with pytest.raises(OptionError, match="--set latent=0: must be >= 1"):
        DCGANRecipe(latent=0)
    with pytest.raises(OptionError, match="--size 48: the crop size must be a power of two from 16 up"):
        DCGANRecipe(size=48)


def test_losses_are_finite_and_reach_every_network() -> None:
    torch.manual_seed(0)
    task = DCGAN(DCGANRecipe(size=16, batch_size=2, latent=8, base=4, diff_augment="color"))
    batch = [torch.rand(2, 3, 16, 16)]
    d_loss = task.discriminator_loss(batch)["total"]
    d_loss.backward()
    assert torch.isfinite(d_loss) and all(p.grad is not None for p in task.discriminators.parameters())
    assert all(p.grad is None for p in task.generators.parameters())  # the fakes are detached
    terms = task.generator_loss(batch)
    terms["total"].backward()
    assert torch.isfinite(terms["total"]) and all(p.grad is not None for p in task.generators.parameters())
    samples = task.samples(batch, task.generators["G"])
    assert samples.shape == (16, 3, 16, 16) and 0 <= samples.min() and samples.max() <= 1
