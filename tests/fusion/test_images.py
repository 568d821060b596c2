"""Multi-image fusion on tiny synthetic scenes: the fused picture is closer to the scene than any single input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.helpers import save_style_model
from tests.test_cli import run_cli

from stylefuse.fusion.images import fuse_images
from stylefuse.image.io import read_image, write_image
from stylefuse.metrics.content import psnr

cv2 = pytest.importorskip("cv2", reason="multi-image fusion needs OpenCV (the fusion extra)")


def scene(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """(3, H, W) in [0, 1]: a colour gradient under random discs, boxes and lines (corners for the stitcher)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    image = (np.stack([0.3 + 0.4 * x, 0.4 + 0.3 * y, 0.5 + 0.2 * np.sin(6 * x)], -1) * 255).astype(np.uint8)
    for _ in range(height * width // 300):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cx, cy, r = int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(2, 10))
        kind = rng.integers(0, 3)
        if kind == 0:
            cv2.circle(image, (cx, cy), r, colour, -1)
        elif kind == 1:
            cv2.rectangle(image, (cx, cy), (cx + r, cy + int(rng.integers(2, 10))), colour, -1)
        else:
            cv2.line(image, (cx, cy), (cx + int(rng.integers(-15, 15)), cy + int(rng.integers(-15, 15))), colour, 1)
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


def psnr_of(result: torch.Tensor, reference: torch.Tensor) -> float:
    return float(psnr(result[None], reference[None]))


def on_canvas(image: torch.Tensor, size: tuple[int, int], left: int = 0) -> torch.Tensor:
    """``image`` placed at column ``left`` of a black canvas of ``size`` (cropped to it)."""
    canvas = torch.zeros(3, *size)
    height, width = min(size[0], image.shape[1]), min(size[1] - left, image.shape[2])
    canvas[:, :height, left:left + width] = image[:, :height, :width]
    return canvas


def test_panorama_of_three_views_beats_any_single_view() -> None:
    original = scene(192, 480)
    width, step = 212, 134
    views = [original[:, :, index * step:index * step + width] for index in range(3)]
    stitched = fuse_images([views[2], views[0], views[1]], "panorama", stitch_mode="scans", confidence=0.5)
    assert stitched.shape[-1] >= 0.95 * 480 and abs(stitched.shape[-2] - 192) <= 4
    fused = psnr_of(on_canvas(stitched, (192, 480)), original)
    singles = [psnr_of(on_canvas(view, (192, 480), index * step), original) for index, view in enumerate(views)]
    assert fused > max(singles) + 3, (fused, singles)


def textured(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """:func:`scene` under fine colour noise (Gaussian, sigma 1.5 px): blobs at SIFT's scales, so that a 32-px
    overlap of 128-px views has dozens of matches."""
    noise = cv2.GaussianBlur(np.random.default_rng(seed).random((height, width, 3)).astype(np.float32), (0, 0), 1.5)
    noise = torch.from_numpy((noise - noise.mean()) / noise.std()).permute(2, 0, 1)
    return (scene(height, width, seed) + 0.15 * noise).clamp(0, 1)


def turned(view: torch.Tensor, degrees: float) -> torch.Tensor:
    """``view`` turned about its centre, its corners filled by reflection (a camera that rolled a little)."""
    array = view.permute(1, 2, 0).numpy()
    matrix = cv2.getRotationMatrix2D((array.shape[1] / 2, array.shape[0] / 2), degrees, 1.0)
    turned_ = cv2.warpAffine(array, matrix, (array.shape[1], array.shape[0]), borderMode=cv2.BORDER_REFLECT)
    return torch.from_numpy(turned_).permute(2, 0, 1)


def test_panorama_at_25_percent_overlap_with_turned_views() -> None:
    original = textured(128, 320)
    views = [original[:, :, index * 96:index * 96 + 128] for index in range(3)]  # 32 px of 128 overlap
    stitched = fuse_images([turned(views[2], -1.5), turned(views[0], 2.0), views[1]], "panorama")
    assert abs(stitched.shape[-1] - 320) <= 12 and abs(stitched.shape[-2] - 128) <= 10, stitched.shape
    inner = (slice(None), slice(8, -8), slice(8, -8))  # the turned views' corners are reflections
    fused = max(psnr_of(on_canvas(stitched[:, top:, left:], (128, 320))[inner], original[inner])
                for top in range(6) for left in range(6))  # the canvas starts where a turned corner reaches
    singles = [psnr_of(on_canvas(view, (128, 320), index * 96)[inner], original[inner])
               for index, view in enumerate(views)]
    assert fused > 25 and fused > max(singles) + 10, (fused, singles)


def bracket(image: torch.Tensor, stops: float) -> torch.Tensor:
    """A shot of ``image`` at ``stops`` EV: scaled in linear light (gamma 2.2), clipped, re-encoded."""
    return (image ** 2.2 * 2.0**stops).clamp(0, 1) ** (1 / 2.2)


def test_exposure_fusion_beats_every_bracket() -> None:
    original = scene(96, 128)
    shots = [bracket(original, -1.5), torch.roll(bracket(original, 1.0), shifts=2, dims=-1)]
    fused = fuse_images(shots, "exposure")
    singles = [psnr_of(shot, original) for shot in shots]
    assert psnr_of(fused, original) > max(singles) + 1, (psnr_of(fused, original), singles)


def test_focus_stack_beats_every_shot() -> None:
    original = scene(96, 144)
    blurred = torch.from_numpy(cv2.GaussianBlur(original.permute(1, 2, 0).numpy(), (0, 0), 3)).permute(2, 0, 1)
    shots = []
    for index in range(3):  # each shot is sharp in one vertical third
        shot = blurred.clone()
        shot[:, :, index * 48:(index + 1) * 48] = original[:, :, index * 48:(index + 1) * 48]
        shots.append(shot)
    fused = fuse_images(shots, "focus")
    singles = [psnr_of(shot, original) for shot in shots]
    assert psnr_of(fused, original) > max(singles) + 5, (psnr_of(fused, original), singles)


def test_fuse_then_stylize_from_the_cli(tmp_path, capsys, monkeypatch) -> None:
    original = scene(64, 96)
    shots = [write_image(tmp_path / f"shot{ev}.png", bracket(original, ev)) for ev in (-1.5, 1.0)]
    model = save_style_model(tmp_path / "styles", channels=(8, 8, 16), blocks=1)
    out = tmp_path / "out.png"
    code, stdout, err = run_cli(["fuse-images", *shots, "--mode", "exposure", "--model", model, "-s", "ink",
                                 "-o", out], capsys, monkeypatch)
    assert code == 0, err
    assert "exposure of 2 images" in stdout and read_image(out).size == (96, 64)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    wide = scene(192, 480)
    return {"a": write_image(tmp_path / "a.png", wide[:, :, :212]),
            "b": write_image(tmp_path / "b.png", wide[:, :, 134:346]),
            "far": write_image(tmp_path / "far.png", scene(192, 212, seed=5)),
            "small": write_image(tmp_path / "small.png", wide[:, :64, :64])}


@pytest.mark.parametrize("names, args, message", [
    (["a"], ["--mode", "panorama"], "needs at least two images, got 1"),
    (["a", "far"], ["--mode", "panorama"], "could not stitch the panorama: too few matching features"),
    (["a", "b", "far"], ["--mode", "panorama"], "left out far.png"),
    (["a", "b"], ["--mode", "panorama", "--stitch-mode", "cylinder"], "unknown --stitch-mode 'cylinder'"),
    (["a", "b", "far"], ["--mode", "panorama", "--stitch-mode", "scans", "--confidence", "0.5"], "left out far.png"),
    (["a", "small"], ["--mode", "focus"], "must have one size"),
    (["a", "b"], ["--mode", "exposure", "--stitch-mode", "scans"], "does not take --stitch-mode"),
    (["a", "b"], ["--mode", "blend"], "unknown --mode 'blend'"),
])
def test_bad_inputs_are_one_line(tmp_path, files, names, args, message, capsys, monkeypatch) -> None:
    code, _, err = run_cli(["fuse-images", *[files[name] for name in names], *args, "-o", tmp_path / "o.png"],
                           capsys, monkeypatch)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
