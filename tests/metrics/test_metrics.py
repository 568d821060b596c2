"""Metrics against reference values and orderings that must hold, and the report on a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from stylefuse.evaluate import Candidate, evaluate
from stylefuse.image.io import write_image
from stylefuse.metrics.content import canny, psnr
from stylefuse.metrics.distribution import frechet_distance, kernel_inception_distance
from stylefuse.metrics.report import write_report
from stylefuse.registry import METRICS
from tests.helpers import disc_photo, noisy_copy

CONTENT_METRICS = ("lpips_vgg16_caffe", "ssim", "edge_f1")
STYLE_METRICS = ("inception_gram", "inception_mean_std", "color_histogram")


def test_psnr_reference_values() -> None:
    reference = torch.zeros(2, 3, 4, 4)
    image = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 2.0)])  # the second is clamped to 1
    torch.testing.assert_close(psnr(image, reference), torch.tensor([20.0, 0.0]))
    assert psnr(reference, reference).tolist() == pytest.approx([100.0, 100.0])  # floored, never infinite


def test_every_metric_is_registered() -> None:
    assert set(CONTENT_METRICS + STYLE_METRICS) <= set(METRICS.names())


@pytest.mark.parametrize("name", CONTENT_METRICS + STYLE_METRICS)
def test_identical_images_score_perfectly(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    perfect = 1.0 if metric.higher_is_better else 0.0
    assert metric(image, image, image) == pytest.approx(perfect, abs=1e-4)


@pytest.mark.parametrize("name", CONTENT_METRICS)
def test_more_noise_is_further_from_the_content(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    scores = [metric(noisy_copy(image, amount), image, image) for amount in (0.05, 0.2, 0.5)]
    ordered = sorted(scores, reverse=metric.higher_is_better)
    assert scores == ordered and scores[0] != scores[-1]


@pytest.mark.parametrize("name", STYLE_METRICS)
def test_more_noise_is_further_from_the_style(name) -> None:
    metric, image = METRICS.create(name), disc_photo()
    scores = [metric(noisy_copy(image, amount), image, image) for amount in (0.05, 0.3)]
    assert scores[0] < scores[1]


def test_a_stylized_image_is_closer_in_style_to_its_painting_than_to_its_photo() -> None:
    from pathlib import Path

    from stylefuse.image import ops
    from stylefuse.image.io import read_image
    from stylefuse.methods.gatys import GatysStylizer

    examples = Path(__file__).resolve().parents[2] / "examples"
    painting = ops.resize_long_side(read_image(examples / "swirls.png").rgb, 128).clamp(0, 1)
    photo = ops.resize_long_side(read_image(examples / "coffee.jpg").rgb, 128).clamp(0, 1)
    result = GatysStylizer(size=128, steps=30, levels=1, style_weight=30.0).stylize(photo, [painting])
    for name in ("inception_gram", "inception_mean_std"):  # colours: Gatys starts from the photo's
        metric = METRICS.create(name)
        assert metric(result, photo, painting) < metric(result, photo, photo), name


def test_canny_finds_the_outline_of_a_square() -> None:
    image = torch.zeros(1, 40, 40)
    image[:, 10:30, 10:30] = 1.0
    edges = canny(image)
    assert edges[10:30, 8:12].any() and edges[10:30, 28:32].any()
    assert not edges[15:25, 15:25].any() and not edges[:5, :5].any()


def test_kid_is_unbiased_and_fid_matches_a_known_case() -> None:
    rng = np.random.default_rng(0)
    draws = [kernel_inception_distance(rng.normal(size=(20, 8)), rng.normal(size=(20, 8))) for _ in range(300)]
    standard_error = np.std(draws) / np.sqrt(len(draws))
    assert abs(np.mean(draws)) < 3 * standard_error  # the biased estimator is clearly positive here
    shifted = kernel_inception_distance(rng.normal(size=(50, 8)), rng.normal(size=(50, 8)) + 1.0)
    assert shifted > 10 * np.std(draws)
    a = rng.normal(size=(4000, 3))
    assert frechet_distance(a, a + np.array([2.0, 0.0, 0.0])) == pytest.approx(4.0, rel=1e-3)


def test_report_on_a_tiny_run(tmp_path) -> None:
    for index in range(2):
        write_image(tmp_path / "content" / f"c{index}.png", disc_photo(index))
        write_image(tmp_path / "style" / f"s{index}.png", noisy_copy(disc_photo(index + 5), 0.3))
    calls = []

    def blend(content, style, path):
        calls.append(path.stem)
        return 0.5 * content + 0.5 * torch.nn.functional.interpolate(style[None], size=content.shape[-2:])[0]

    out = tmp_path / "report"
    run = evaluate(Candidate("blend", blend), tmp_path / "content", tmp_path / "style", out, size=48,
                   metric_names=["ssim", "color_histogram"], distribution=False, report=lambda m: None)
    assert run["pairs"] == 4 and len(calls) == 4
    evaluate(Candidate("blend", blend), tmp_path / "content", tmp_path / "style", out, size=48,
             metric_names=["ssim"], distribution=False)
    assert len(calls) == 4  # cached results are not recomputed
    page = write_report([run], out)
    text = page.read_text()
    assert text.count("<img") >= 4 + 1 and "color_histogram" in text
    assert (out / "latency.png").stat().st_size > 1000
    assert json.loads((out / "metrics.json").read_text())["runs"][0]["summary"]["ssim"] > 0


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
