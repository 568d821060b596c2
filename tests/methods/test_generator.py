"""GeneratorStylizer over tiny saved generator folders: tiling, strength, size, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.methods._generator import GeneratorStylizer
from stylefuse.nn.discriminators import PatchDiscriminator
from stylefuse.nn.generators import ResnetGenerator, UnetGenerator
from tests.helpers import wavy_photo


def _resnet_folder(folder: Path, **config) -> Path:
    """An untrained ResNet generator; without normalisation it is a local operator (instance norm is global
    per image, so tiles of it differ from a single pass by design)."""
    config = dict(base=4, blocks=1, norm="none", **config)
    torch.manual_seed(0)
    return save_model(ResnetGenerator(**config), folder, "resnet_generator", config, extra={"method": "cyclegan"})


def test_tiles_reproduce_a_single_pass(tmp_path) -> None:
    folder, photo = _resnet_folder(tmp_path / "g"), wavy_photo(160, 192)
    whole = GeneratorStylizer(folder, tile=512).stylize(photo)
    tiled = GeneratorStylizer(folder, tile=64).stylize(photo)
    assert whole.shape == photo.shape and 0 <= whole.min() and whole.max() <= 1
    torch.testing.assert_close(tiled, whole, atol=1e-4, rtol=0)
    assert (whole - photo).abs().mean() > 0.05  # the generator does change the image


def test_strength_blends_with_the_content_and_size_sets_the_long_side(tmp_path) -> None:
    folder, photo = _resnet_folder(tmp_path / "g"), wavy_photo(48, 64)
    from stylefuse import api

    full = GeneratorStylizer(folder).stylize(photo)
    picture = api.as_picture(photo)
    torch.testing.assert_close(api.prepare(model=folder, strength=0.0).run(picture).rgb, photo)
    torch.testing.assert_close(api.prepare(model=folder, strength=0.25).run(picture).rgb,
                               (0.25 * full + 0.75 * photo).clamp(0, 1), atol=1e-6, rtol=0)
    assert GeneratorStylizer(folder, size=32).stylize(photo).shape == (3, 24, 32)


def test_odd_sizes_are_padded_to_the_network_stride(tmp_path) -> None:
    folder = _resnet_folder(tmp_path / "g")
    assert GeneratorStylizer(folder).stylize(wavy_photo(37, 50)).shape == (3, 37, 50)
    config = dict(depth=5, base=4)
    save_model(UnetGenerator(**config), tmp_path / "u", "unet_generator", config, extra={"method": "pix2pix"})
    unet = GeneratorStylizer(tmp_path / "u")
    assert unet.multiple == 32 and unet.stylize(wavy_photo(40, 70)).shape == (3, 40, 70)


def test_a_style_image_is_refused(tmp_path) -> None:
    stylizer = GeneratorStylizer(_resnet_folder(tmp_path / "g"))
    with pytest.raises(OptionError, match="a cyclegan model has its style built in; drop --style"):
        stylizer.stylize(wavy_photo(), [wavy_photo()])


@pytest.mark.parametrize("options, message", [
    (dict(tile=32), "tile must be at least 64 pixels, got 32"),
    (dict(size=8), "size must be at least 16 pixels, got 8"),
])
def test_bad_options_are_refused(options, message, tmp_path) -> None:
    with pytest.raises(OptionError, match=message):
        GeneratorStylizer(_resnet_folder(tmp_path / "g"), **options)


def test_a_folder_of_another_network_is_refused(tmp_path) -> None:
    save_model(PatchDiscriminator(base=4), tmp_path / "d", "patch_discriminator", {"base": 4})
    with pytest.raises(OptionError, match="holds a patch_discriminator, not a generator of GeneratorStylizer"):
        GeneratorStylizer(tmp_path / "d")
