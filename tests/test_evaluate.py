"""Evaluation runs: each recipe has its own cache, a model folder is part of the recipe."""

from __future__ import annotations

import json

import pytest
import torch

from stylefuse.evaluate import Candidate, evaluate
from stylefuse.image.io import write_image
from tests.helpers import disc_photo, noisy_copy


def _two_by_two(tmp_path) -> tuple:
    for index in range(2):
        write_image(tmp_path / "content" / f"c{index}.png", disc_photo(index))
        write_image(tmp_path / "style" / f"s{index}.png", noisy_copy(disc_photo(index + 5), 0.3))
    return tmp_path / "content", tmp_path / "style"


def _blend_candidate(name: str, strength: float, calls: list) -> Candidate:
    def blend(content, style, path):
        calls.append((name, strength))
        resized = torch.nn.functional.interpolate(style[None], size=content.shape[-2:])[0]
        return (1 - strength) * content + strength * resized

    return Candidate(name, blend, {"strength": strength})


def test_runs_of_other_recipes_into_one_folder_never_reuse_each_others_images(tmp_path) -> None:
    """`stylefuse eval --method wct` after an adain run into the same --out used to report adain's images
    and numbers under "wct"."""
    contents, styles = _two_by_two(tmp_path)
    out, calls = tmp_path / "out", []
    options = dict(metric_names=["ssim"], distribution=False, report=lambda m: None)
    runs = {(name, strength, size): evaluate(_blend_candidate(name, strength, calls), contents, styles, out,
                                             size=size, **options)
            for name, strength, size in [("a", 0.2, 48), ("b", 0.2, 48), ("a", 0.8, 48), ("a", 0.2, 40)]}
    assert len(calls) == 16  # every recipe computed its own 4 pairs
    ssim = {key: run["summary"]["ssim"] for key, run in runs.items()}
    assert ssim[("a", 0.2, 48)] > ssim[("a", 0.8, 48)]  # a stronger blend keeps less of the photo
    images = {key: {row["image"] for row in run["rows"]} for key, run in runs.items()}
    assert len(set.union(*images.values())) == 16
    again = evaluate(_blend_candidate("a", 0.8, calls), contents, styles, out, size=48, **options)
    assert len(calls) == 16  # its own cache, reused: the same latencies, the same images (read back from PNG)
    assert again["summary"]["seconds"] == runs[("a", 0.8, 48)]["summary"]["seconds"]
    assert again["summary"]["ssim"] == pytest.approx(ssim[("a", 0.8, 48)], abs=1e-3)
    folder = out / next(iter(images[("b", 0.2, 48)])).rsplit("/", 1)[0]
    assert json.loads((folder / "recipe.json").read_text()) == {"candidate": "b", "options": {"strength": 0.2},
                                                                "size": 48}


def test_a_model_folder_is_part_of_the_recipe(tmp_path) -> None:
    from stylefuse.evaluate import folder_fingerprint

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"1234")
    before = Candidate("fast", None, {"model": folder_fingerprint(folder)}).recipe_key(64)
    (folder / "model.safetensors").write_bytes(b"123456")  # retrained in place
    after = Candidate("fast", None, {"model": folder_fingerprint(folder)}).recipe_key(64)
    assert before != after and before.startswith("fast-")
