"""Checkpoints record their recipe and format version; resuming with another recipe, or training into a folder
that holds a run, is refused with one line; the time budget is reported; model folders are written whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch import nn

from stylefuse.errors import OptionError, StylefuseError
from stylefuse.hub import read_config, save_model
from stylefuse.train.checkpoint import CHECKPOINT_VERSION, load_checkpoint, save_checkpoint
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


def test_training_into_a_folder_that_holds_a_run_needs_resume_or_overwrite(tmp_path: Path) -> None:
    cyclegan_trainer(tmp_path).fit()
    run = tmp_path / "run"
    (run / "best_generator.pt").write_bytes(b"stale")
    with pytest.raises(OptionError, match="already holds a training run .* --resume, or start over with --overwrite"):
        cyclegan_trainer(tmp_path).fit()
    summary = cyclegan_trainer(tmp_path, overwrite=True).fit()
    assert summary["steps"] == 2
    assert not (run / "best_generator.pt").exists()  # a stale best of the old run would be exported
    steps = [json.loads(line).get("step") for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # the old run's log was cleared


def test_the_summary_says_when_the_time_budget_ended_the_run(tmp_path: Path) -> None:
    summary = cyclegan_trainer(tmp_path, steps=50, max_seconds=1e-6).fit()
    assert summary["state"] == "time budget" and summary["budget_ended"] and summary["steps"] == 1


def test_the_recipe_can_go_into_the_model_folder(tmp_path: Path) -> None:
    trainer = cyclegan_trainer(tmp_path)
    trainer.fit()
    trainer.task.export(trainer, tmp_path / "run", extra={"recipe": trainer.recipe_record()})
    assert read_config(tmp_path / "run")["recipe"]["size"] == 32


def test_save_model_writes_a_new_folder_whole_and_keeps_other_files_of_an_existing_one(tmp_path: Path) -> None:
    layer = nn.Linear(2, 2)
    folder = save_model(layer, tmp_path / "new", "x", {"a": 1})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
    (folder / "checkpoint.pt").write_bytes(b"kept")
    save_model(layer, folder, "x", {"a": 2})
    assert (folder / "checkpoint.pt").read_bytes() == b"kept"
    assert read_config(folder)["config"] == {"a": 2}
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint.pt", "config.json", "model.safetensors"]


def test_save_model_leaves_the_old_folder_intact_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    import safetensors.torch

    layer = nn.Linear(2, 2)
    folder = save_model(layer, tmp_path / "m", "x", {"a": 1})
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(tensors, path):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model(layer, folder, "x", {"a": 2})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    with pytest.raises(OSError, match="disk full"):
        save_model(layer, tmp_path / "fresh", "x", {"a": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
