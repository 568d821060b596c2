"""The HTML report on a tiny run, and rendered in a real browser (slow)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from stylefuse.evaluate import Candidate, evaluate
from stylefuse.image.io import write_image
from stylefuse.metrics.report import write_report
from tests.helpers import disc_photo, noisy_copy


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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian package `chromium`)")
def test_report_renders_images_and_plots(tmp_path) -> None:
    generator = torch.Generator().manual_seed(0)
    for index in range(2):
        write_image(tmp_path / "content" / f"c{index}.png", torch.rand(3, 64, 64, generator=generator))
        write_image(tmp_path / "style" / f"s{index}.png", torch.rand(3, 64, 64, generator=generator))
    out = tmp_path / "report"
    run = evaluate(Candidate("mix", lambda c, s, p: (c + torch.flip(c, [-1])) / 2), tmp_path / "content",
                   tmp_path / "style", out, size=64, metric_names=["ssim", "lpips_vgg16_caffe", "inception_gram"],
                   distribution=False)
    page = write_report([run], out)
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(np.int32)
    colours = len(np.unique(pixels.reshape(-1, 3) // 8, axis=0))
    assert colours > 500  # random-noise results and matplotlib plots; a text-only page has a few dozen
    rows_with_colour = (np.abs(np.diff(pixels, axis=1)).sum(axis=(1, 2)) > 5000).sum()
    assert rows_with_colour > 300  # the plots (~350-450 px tall each) and the grid of results are drawn
