"""Adversarial content-preserving style transfer: the α·content + β·style + λ·adversarial objective, recipe
checks, and the registered stylizer of its model folders."""

from __future__ import annotations

import pytest
import torch

from stylefuse import hub
from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.methods.adversarial_style import AdversarialStyle, AdversarialStyleRecipe, AdversarialStyleStylizer
from stylefuse.nn.generators import ResnetGenerator
from tests.helpers import wavy_photo

TINY = dict(size=32, batch_size=2, blocks=1, base=4, content_layers=["relu2_1"], style_layers=["relu1_1"])


@pytest.fixture(scope="module")
def task() -> AdversarialStyle:
    torch.manual_seed(0)
    return AdversarialStyle(AdversarialStyleRecipe(**TINY, alpha=2.0, beta=3.0, lam=0.5))


def _batch(seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(2, 3, 32, 32, generator=generator), torch.rand(2, 3, 32, 32, generator=generator)]


def test_perceptual_terms_vanish_for_the_photo_itself_against_its_own_style(task) -> None:
    photos = _batch(0)[0][:1]
    terms = task.perceptual_terms(photos, photos, photos)
    assert terms["content"].item() == pytest.approx(0, abs=1e-6) and terms["style"].item() == pytest.approx(0, abs=1e-6)
    other = task.perceptual_terms(photos, _batch(1)[0][:1], photos)
    assert other["content"] > 0 and other["style"] > 0


def test_the_generator_loss_is_the_weighted_sum(task) -> None:
    batch = _batch(2)
    torch.manual_seed(0)
    terms = task.generator_loss(batch)
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"] + terms["adversarial"])
    with torch.no_grad():
        generated = (task.generators["G"](batch[0] * 2 - 1) + 1) / 2
        raw = task.perceptual_terms(batch[0], generated.clamp(0, 1), batch[1])
    torch.testing.assert_close(terms["content"], 2.0 * raw["content"], rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(terms["style"], 3.0 * raw["style"], rtol=1e-4, atol=1e-6)
    validation = task.validation_metric(batch, task.generators["G"])
    assert validation == pytest.approx((terms["content"] + terms["style"]).item(), rel=1e-4)
    d = task.discriminator_loss(batch)["total"]
    assert torch.isfinite(d) and d.requires_grad


@pytest.mark.parametrize("options, message", [
    (dict(lam=-1.0), "--set lam=-1.0: must be >= 0"),
    (dict(base=0), "--set base=0: must be >= 1"),
    (dict(style_layers=[]), r"--set style_layers=\[\]: give at least one VGG16 layer"),
    (dict(content_layers=["relu9_9"]), "--set content_layers=relu9_9: choose from"),
])
def test_recipe_errors(options, message) -> None:
    with pytest.raises(OptionError, match=message):
        AdversarialStyleRecipe(**options)


def test_its_model_folders_load_as_its_stylizer(tmp_path) -> None:
    config = dict(base=4, blocks=1)
    save_model(ResnetGenerator(**config), tmp_path / "m", "resnet_generator", config,
               extra={"method": "adversarial_style"})
    stylizer = hub.load(tmp_path / "m")
    assert isinstance(stylizer, AdversarialStyleStylizer)
    assert stylizer.stylize(wavy_photo(32, 48)).shape == (3, 32, 48)
