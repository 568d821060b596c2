"""Style descriptors: shapes, the nearest style, the file round trip, and their use in personalisation."""

from __future__ import annotations

import pytest
import torch

from stylefuse.image.io import write_image
from stylefuse.methods import style_statistics as SS
from stylefuse.methods.personalize import Personalize, PersonalizeRecipe
from tests.helpers import save_style_model


def features(seed: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"relu1_2": scale * torch.rand(1, 4, 8, 8, generator=generator),
            "relu2_2": 100 * scale * torch.rand(1, 6, 4, 4, generator=generator)}


def test_describe_gives_means_and_stds_per_channel() -> None:
    values = features(0)
    descriptor = SS.describe(values)
    assert descriptor["relu1_2"].shape == (2, 4) and descriptor["relu2_2"].shape == (2, 6)
    assert torch.allclose(descriptor["relu1_2"][0], values["relu1_2"][0].mean(dim=(1, 2)))
    biased = (values["relu2_2"][0].flatten(1).var(dim=1, unbiased=False) + 1e-5).sqrt()  # as AdaIN's statistics
    assert torch.allclose(descriptor["relu2_2"][1], biased)


def test_nearest_finds_the_same_style_and_every_layer_counts() -> None:
    table = SS.stack([SS.describe(features(seed)) for seed in range(4)])
    assert [SS.nearest(table, SS.describe(features(seed))) for seed in range(4)] == [0, 1, 2, 3]
    # style 0 is 10% off on the large-valued layer, style 1 50% off on the small one: relative to each
    # layer's size style 0 is nearer, though its absolute difference is far larger
    query = SS.describe(features(7))
    off = {0: {"relu1_2": query["relu1_2"], "relu2_2": query["relu2_2"] * 1.1},
           1: {"relu1_2": query["relu1_2"] * 1.5, "relu2_2": query["relu2_2"]}}
    assert SS.nearest(SS.stack([off[0], off[1]]), query) == 0


def test_statistics_round_trip_and_refuse_another_style_count(tmp_path) -> None:
    table = SS.stack([SS.describe(features(seed)) for seed in range(3)])
    SS.save_statistics(tmp_path, table)
    loaded = SS.load_statistics(tmp_path, styles=3)
    assert loaded is not None and set(loaded) == set(table)
    for name in table:
        assert torch.allclose(loaded[name], table[name], rtol=1e-3, atol=1e-3)  # stored in fp16
    assert SS.load_statistics(tmp_path, styles=4) is None
    assert SS.load_statistics(tmp_path / "elsewhere", styles=3) is None
    assert torch.equal(SS.append(table, SS.describe(features(9)))["relu1_2"][3], SS.describe(features(9))["relu1_2"])


@pytest.mark.parametrize("style", [0, 1])
def test_personalize_starts_from_the_described_nearest_style_without_scoring(tmp_path, style, monkeypatch) -> None:
    generator = torch.Generator().manual_seed(2)
    paintings = [write_image(tmp_path / f"p{i}.png", torch.rand(3, 48, 48, generator=generator) ** (1 + 3 * i))
                 for i in range(2)]
    base = save_style_model(tmp_path / "base", channels=(8, 8, 16), blocks=2)
    describer = Personalize(PersonalizeRecipe(base=str(base), size=32, style_size=48, style_names=["x"]))
    descriptors = []
    for painting in paintings:
        describer.make_batches({"data": tmp_path, "style": [painting]})
        descriptors.append(describer.new_statistics)
    SS.save_statistics(base, SS.stack(descriptors))

    task = Personalize(PersonalizeRecipe(base=str(base), size=32, style_size=48, style_names=["new"]))
    monkeypatch.setattr(task, "validation_metric", lambda *args: pytest.fail("scored the base styles"))
    reports = []
    task.make_batches({"data": tmp_path, "style": [paintings[style]]}, report=reports.append)
    assert reports[-1] == f"starting from {['ink', 'sun'][style]}"
    table = task.style_statistics
    assert table is not None and table["relu4_3"].shape[0] == 3  # the base's two styles and the new one
    assert torch.allclose(table["relu4_3"][2], descriptors[style]["relu4_3"], rtol=1e-3, atol=1e-2)
