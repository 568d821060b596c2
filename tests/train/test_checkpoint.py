"""Checkpoints record their recipe and format version; resuming with another recipe is refused with one line."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from stylefuse.errors import StylefuseError
from stylefuse.train.checkpoint import CHECKPOINT_VERSION, load_checkpoint, rng_state, save_checkpoint, seed_all
from tests.helpers import cyclegan_trainer


def test_the_checkpoint_records_the_recipe_and_a_format_version(tmp_path: Path) -> None:
    trainer = cyclegan_trainer(tmp_path)
    trainer.fit()
    state = load_checkpoint(tmp_path / "run")
    assert state["format_version"] == CHECKPOINT_VERSION
    recipe = state["recipe"]
    assert recipe["method"] == "cyclegan" and recipe["size"] == 32 and recipe["blocks"] == 1
    assert recipe["lr"] == 2e-4 and recipe["betas"] == [0.5, 0.999] and recipe["seed"] == 0
    assert "steps" not in recipe and "max_seconds" not in recipe
    assert recipe == trainer.recipe_record()


@pytest.mark.parametrize("change,expected", [
    (dict(size=64), "trained with size=32, this run asks for size=64"),
    (dict(lr=1e-3), "trained with lr=0.0002, this run asks for lr=0.001"),
    (dict(seed=3), "trained with seed=0, this run asks for seed=3"),
])
def test_resuming_with_another_recipe_names_the_first_differing_field(tmp_path: Path, change, expected) -> None:
    cyclegan_trainer(tmp_path).fit()
    with pytest.raises(StylefuseError, match=expected) as caught:
        cyclegan_trainer(tmp_path, steps=4, **change).fit(resume=True)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("cannot resume")


def test_resuming_longer_or_with_a_time_budget_is_allowed(tmp_path: Path) -> None:
    cyclegan_trainer(tmp_path).fit()
    summary = cyclegan_trainer(tmp_path, steps=3, max_seconds=600).fit(resume=True)
    assert summary["steps"] == 3 and summary["state"] == "done"


def test_a_checkpoint_without_a_format_version_is_refused(tmp_path: Path) -> None:
    cyclegan_trainer(tmp_path).fit()
    state = load_checkpoint(tmp_path / "run")
    del state["format_version"]
    save_checkpoint(tmp_path / "run", state)
    with pytest.raises(StylefuseError, match="format version None"):
        cyclegan_trainer(tmp_path, steps=3).fit(resume=True)


def test_rng_state_round_trips_every_generator_through_a_checkpoint(tmp_path: Path) -> None:
    import random

    import numpy as np

    from stylefuse.train.checkpoint import rng_state, set_rng_state

    torch.manual_seed(1)
    random.seed(2)
    np.random.seed(3)
    save_checkpoint(tmp_path, {"rng": rng_state(), "step": 7, "weights": {"w": torch.arange(3.0)}})
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(99)
    random.seed(99)
    np.random.seed(99)
    state = load_checkpoint(tmp_path)
    set_rng_state(state["rng"])
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(expected[0], again[0]) and expected[1:] == again[1:]
    assert state["step"] == 7 and torch.equal(state["weights"]["w"], torch.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left


def test_a_missing_or_damaged_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(StylefuseError, match="checkpoint.pt does not exist; start without --resume"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(StylefuseError, match="is damaged .*delete it to start again") as caught:
        load_checkpoint(tmp_path)
    assert "\n" not in str(caught.value)


def test_checkpoints_never_unpickle_code(tmp_path: Path) -> None:
    torch.save({"code": Path("x")}, tmp_path / "checkpoint.pt")  # a pickled object, not plain data
    with pytest.raises(StylefuseError, match="is damaged"):
        load_checkpoint(tmp_path)


def _same(left: dict, right: dict) -> bool:
    return all(torch.equal(left[k], right[k]) if isinstance(left[k], torch.Tensor) else left[k] == right[k]
               for k in left)


def test_seed_all_seeds_every_saved_generator() -> None:
    """Regression: python's and numpy's generators were saved but never seeded, so two fresh runs of the same
    recipe wrote different checkpoints."""
    seed_all(3)
    first = rng_state()
    random.random(), np.random.rand(), torch.rand(1)
    seed_all(3)
    assert _same(first, rng_state())
