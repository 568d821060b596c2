"""Inverter training: recipe checks, the reconstruction loss and its validation metric, and export."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.methods.inverter import InverterRecipe, InverterTraining
from stylefuse.metrics.content import psnr


@pytest.fixture(scope="module")
def task() -> InverterTraining:
    torch.manual_seed(0)
    return InverterTraining(InverterRecipe(level="relu2_1", size=32, batch_size=2, width=0.25,
                                           feature_depth="relu1_1"))


def test_feature_levels_stop_at_the_shallower_of_level_and_depth(task) -> None:
    assert task.feature_levels == ["relu1_1"]
    deep = InverterTraining(InverterRecipe(level="relu1_1", size=32, width=0.25, feature_depth="relu3_1"))
    assert deep.feature_levels == ["relu1_1"]
    assert task.network_config == {"level": "relu2_1", "width": 0.25}


def test_reconstruction_has_the_photo_shape_and_the_loss_trains_the_inverter(task) -> None:
    photos = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    output, targets = task.reconstruct(photos, task.generators["G"])
    assert output.shape == photos.shape and set(targets) == {"relu1_1"}
    terms = task.generator_loss([photos])
    assert set(terms) == {"pixel", "feature", "total"}
    torch.testing.assert_close(terms["total"], terms["pixel"] + terms["feature"])
    torch.testing.assert_close(terms["pixel"], torch.nn.functional.mse_loss(output, photos), rtol=1e-4, atol=1e-6)
    terms["total"].backward()
    assert all(p.grad is not None for p in task.generators.parameters())
    task.generators.zero_grad()


def test_validation_metric_is_minus_the_psnr(task) -> None:
    photos = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        output, _ = task.reconstruct(photos, task.generators["G"])
        expected = -psnr(output, photos).mean().item()
    assert task.validation_metric([photos], task.generators["G"]) == pytest.approx(expected)
    samples = task.samples([photos], task.generators["G"])
    assert samples.shape == (4, 3, 32, 32) and 0 <= samples.min() and samples.max() <= 1


@pytest.mark.parametrize("options, message", [
    (dict(level="relu6_1"), "--level relu6_1: choose from relu1_1"),
    (dict(size=44), "--size 44: the crop size must be a multiple of 8 from 32 up"),
    (dict(width=0), "--set width=0: must be > 0"),
    (dict(feature_weight=-1), "--set feature_weight=-1: must be >= 0"),
])
def test_recipe_errors(options, message) -> None:
    with pytest.raises(OptionError, match=message):
        InverterRecipe(**options)


def test_without_a_feature_term_only_the_pixel_loss_counts() -> None:
    task = InverterTraining(InverterRecipe(level="relu1_1", size=32, width=0.25, feature_weight=0.0))
    assert set(task.generator_loss([torch.rand(1, 3, 32, 32)])) == {"pixel", "total"}


def test_init_starts_from_an_inverter_folder_and_refuses_another_level(tmp_path) -> None:
    from stylefuse.builtin import INVERTERS_FOLDER
    from stylefuse.hub import load_model

    shipped, _ = load_model(INVERTERS_FOLDER / "relu1_1")
    task = InverterTraining(InverterRecipe(level="relu1_1", size=32, width=0.5, init="builtin"))
    for name, value in task.generators["G"].state_dict().items():
        torch.testing.assert_close(value, shipped.state_dict()[name])
    with pytest.raises(OptionError, match="init=builtin: .* is not an inverter with level=relu2_1"):
        InverterTraining(InverterRecipe(level="relu2_1", size=32, width=0.25, init="builtin"))
    with pytest.raises(OptionError, match="init=.*relu2_1: .* with level=relu1_1"):
        InverterTraining(InverterRecipe(level="relu1_1", size=32, width=0.5, init=str(INVERTERS_FOLDER / "relu2_1")))
