"""Region fusion for every method: masks, label images and automatic regions, composited by a pyramid blend."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.helpers import save_style_model
from tests.test_cli import run_cli

from stylefuse import api
from stylefuse.fusion.segment import auto_labels
from stylefuse.hub import save_model
from stylefuse.image import laplacian
from stylefuse.image.io import as_picture, read_image, write_image
from stylefuse.nn.generators import ResnetGenerator

SEAM_MARGIN = 20
"""Pixels from the seam beyond which a region must equal its single-style run."""


@pytest.fixture
def photo() -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 12, generator=generator), size=(64, 96),
                                             mode="bilinear", align_corners=False)[0]
    return smooth.clamp(0, 1)


@pytest.fixture
def styles_model(tmp_path: Path) -> Path:
    return save_style_model(tmp_path / "styles", channels=(8, 8, 16), blocks=1)


def left_half(height: int = 64, width: int = 96) -> torch.Tensor:
    mask = torch.zeros(3, height, width)
    mask[:, :, : width // 2] = 1
    return mask


def away_from_seam(image: torch.Tensor, side: str, width: int = 96) -> torch.Tensor:
    half = width // 2
    return image[..., : half - SEAM_MARGIN] if side == "left" else image[..., half + SEAM_MARGIN:]


def test_blend_is_exact_away_from_the_seam_and_keeps_a_constant() -> None:
    images = torch.stack([torch.rand(3, 64, 96), torch.rand(3, 64, 96)])
    weights = torch.stack([left_half()[:1], 1 - left_half()[:1]])
    out = laplacian.blend(images, weights)
    torch.testing.assert_close(away_from_seam(out, "left"), away_from_seam(images[0], "left"), atol=1e-5, rtol=0)
    torch.testing.assert_close(away_from_seam(out, "right"), away_from_seam(images[1], "right"), atol=1e-5, rtol=0)
    flat = laplacian.blend(torch.full((2, 3, 40, 40), 0.3), torch.rand(2, 1, 40, 40))
    torch.testing.assert_close(flat, torch.full((3, 40, 40), 0.3))


def test_two_regions_match_their_single_style_runs_away_from_the_seam(styles_model, photo) -> None:
    picture = as_picture(photo)
    fused = api.prepare(["ink", "sun"], model=styles_model, masks=[left_half()]).run(picture).rgb
    for style, side in (("ink", "left"), ("sun", "right")):
        single = api.prepare([style], model=styles_model).run(picture).rgb
        torch.testing.assert_close(away_from_seam(fused, side), away_from_seam(single, side), atol=1e-5, rtol=0)
    ink, sun = (api.prepare([s], model=styles_model).run(picture).rgb for s in ("ink", "sun"))
    seam = fused[..., 44:52]  # blended: between the two runs, not a hard cut
    assert not torch.allclose(seam, ink[..., 44:52]) and not torch.allclose(seam, sun[..., 44:52])


def test_model_folders_per_region_from_a_label_image(tmp_path, photo, capsys, monkeypatch) -> None:
    torch.manual_seed(0)
    gans = [save_model(ResnetGenerator(blocks=1, base=4), tmp_path / f"gan{i}", "resnet_generator",
                       dict(blocks=1, base=4), extra={"method": "cyclegan"}) for i in range(2)]
    content = write_image(tmp_path / "photo.png", photo)
    labels = write_image(tmp_path / "labels.png", 0.2 + 0.6 * (1 - left_half()))  # left dark: the first model
    out = tmp_path / "out.png"
    code, _, err = run_cli(["stylize", content, "-s", gans[0], "-s", gans[1], "--regions", labels, "-o", out],
                           capsys, monkeypatch)
    assert code == 0, err
    fused = read_image(out).rgb
    for gan, side in zip(gans, ("left", "right")):
        single = tmp_path / f"single-{gan.name}.png"
        assert run_cli(["stylize", content, "--model", gan, "-o", single], capsys, monkeypatch)[0] == 0
        assert (away_from_seam(fused, side) - away_from_seam(read_image(single).rgb, side)).abs().max() <= 1.5 / 255


def test_gatys_takes_masks_through_the_composite(tmp_path, small_style) -> None:
    photo = torch.rand(3, 32, 48)
    mask = torch.zeros(3, 32, 48)
    mask[:, :, :24] = 1
    options = dict(size=48, steps=2, levels=1, style_layers=("relu1_1",), content_layers=("relu1_1",))
    out = api.prepare([small_style, photo], "gatys", masks=[mask], **options).run(as_picture(photo))
    assert out.rgb.shape == (3, 32, 48)


def test_auto_regions_follow_colour(photo) -> None:
    image = torch.zeros(3, 64, 96)
    image[:, :, :40] = torch.tensor([0.1, 0.1, 0.3])[:, None, None]  # dark blue on the left
    image[:, :, 40:] = torch.tensor([0.9, 0.8, 0.2])[:, None, None]  # bright yellow on the right
    image = (image + 0.03 * torch.rand(3, 64, 96, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    labels = auto_labels(image, 2)
    assert labels.shape == (64, 96)
    assert (labels[:, :36] == 0).float().mean() > 0.98 and (labels[:, 44:] == 1).float().mean() > 0.98


def test_auto_regions_through_the_api(styles_model, photo) -> None:
    out = api.stylize(photo, ["ink", "sun"], model=styles_model, regions="auto:2")
    assert out.size == (96, 64)


@pytest.mark.parametrize("extra, message", [
    (["--mask", "small"], "masks must match the content image's size"),
    (["--regions", "labels3"], "has 3 regions (distinct values) but 2 styles"),
    (["--regions", "auto:1"], "K >= 2"),
    (["--regions", "auto:3"], "makes 3 regions but 2 styles"),
    (["--mask", "mask", "--regions", "auto:2"], "not both"),
])
def test_bad_regions_are_one_line(tmp_path, styles_model, photo, extra, message, capsys, monkeypatch) -> None:
    files = {"small": write_image(tmp_path / "small.png", torch.ones(3, 10, 10)),
             "mask": write_image(tmp_path / "mask.png", left_half()),
             "labels3": write_image(tmp_path / "labels3.png", torch.arange(3).repeat_interleave(32)[None, None]
                                    .expand(3, 64, 96) / 2.0)}
    content = write_image(tmp_path / "photo.png", photo)
    args = [str(files.get(item, item)) for item in extra]
    code, _, err = run_cli(["stylize", content, "--model", styles_model, "-s", "ink", "-s", "sun", *args,
                            "-o", tmp_path / "o.png"], capsys, monkeypatch)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
