"""The feature-transfer stylizer shared by AdaIN and WCT, with the shipped inverters: options, masks, tiling,
caching, inverter folders, progress and bad inputs."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.methods.adain import AdaINStylizer
from stylefuse.methods.wct import WCTStylizer
from tests.helpers import feature_stylizer, stripes_image, wavy_photo

METHODS = [AdaINStylizer, WCTStylizer]


@pytest.mark.parametrize("cls", METHODS)
def test_output_has_the_content_size_and_valid_values(cls) -> None:
    out = feature_stylizer(cls).stylize(wavy_photo(), [stripes_image()])
    assert out.shape == (3, 64, 96)
    assert torch.isfinite(out).all() and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("cls", METHODS)
def test_strength_moves_from_the_content_to_the_style(cls) -> None:
    photo, style = wavy_photo(), stripes_image()
    none = feature_stylizer(cls, strength=0.0).stylize(photo, [style])
    half = feature_stylizer(cls, strength=0.5).stylize(photo, [style])
    full = feature_stylizer(cls, strength=1.0).stylize(photo, [style])
    distances = [(image - photo).abs().mean().item() for image in (none, half, full)]
    assert distances[0] < distances[1] < distances[2]


def test_a_mask_puts_each_style_on_its_side() -> None:
    photo = wavy_photo()
    texture = stripes_image()[0]
    red = torch.stack([0.5 + 0.4 * texture, 0.1 * texture, 0.1 * texture])
    blue = torch.stack([0.1 * texture, 0.1 * texture, 0.5 + 0.4 * texture])
    mask = torch.zeros(3, 64, 96)
    mask[:, :, :48] = 1.0  # left half: first style
    out = feature_stylizer(AdaINStylizer, masks=[mask]).stylize(photo, [red, blue])
    left, right = out[:, :, :32], out[:, :, 64:]
    redness_left, redness_right = left[0].mean() - left[2].mean(), right[0].mean() - right[2].mean()
    assert redness_left > redness_right + 0.05


@pytest.mark.parametrize("masks, message", [
    ([torch.ones(3, 32, 32)], "masks must match the content"),
    ([torch.ones(3, 64, 96)] * 3, "one mask per style"),
])
def test_bad_masks_are_refused(masks, message) -> None:
    with pytest.raises(OptionError, match=message):
        feature_stylizer(AdaINStylizer, masks=masks).stylize(wavy_photo(), [stripes_image(), stripes_image()])


@pytest.mark.parametrize("weights", [[0.0, 0.0], [-1.0, 2.0], [1.0]])
def test_bad_weights_are_refused(weights) -> None:
    with pytest.raises(OptionError, match="weights"):
        feature_stylizer(AdaINStylizer).stylize(wavy_photo(), [stripes_image(), stripes_image()], weights)


@pytest.mark.parametrize("cls", METHODS)
def test_one_colour_style_and_tiny_content_give_no_nan(cls) -> None:
    flat = torch.full((3, 48, 48), 0.4)
    assert torch.isfinite(feature_stylizer(cls).stylize(wavy_photo(), [flat])).all()
    assert torch.isfinite(feature_stylizer(cls).stylize(wavy_photo(16, 16), [stripes_image()])).all()


def test_too_small_content_is_refused() -> None:
    with pytest.raises(OptionError, match="too small"):
        feature_stylizer(AdaINStylizer).stylize(wavy_photo(8, 40), [stripes_image()])


@pytest.mark.parametrize("cls", METHODS)
def test_tiled_and_untiled_results_agree(cls) -> None:
    """Tiles share the whole-image statistics and are encoded and inverted with 64 px of context that
    is cropped off, so only pixels whose receptive field reaches beyond that context can differ.
    A mean absolute difference below 0.005 (about one grey level) and a 99th percentile below 0.03 are
    invisible next to the stylization itself, which moves pixels by more than 0.1; without context
    margins the same tiling differs several times more (checked below), WCT's four chained levels
    amplifying the border errors."""
    photo = wavy_photo(256, 256)
    whole = feature_stylizer(cls, tile=512).stylize(photo, [stripes_image()])
    tiled = feature_stylizer(cls, tile=160, overlap=48).stylize(photo, [stripes_image()])
    bare = feature_stylizer(cls, tile=160, overlap=48, margin=0).stylize(photo, [stripes_image()])
    difference = (whole - tiled).abs()
    assert difference.mean() < 0.005 and difference.flatten().quantile(0.99) < 0.03
    assert (whole - bare).abs().mean() > 2 * difference.mean()
    assert (whole - photo).abs().mean() > 0.1


def test_style_statistics_are_computed_once(tmp_path) -> None:
    cache = StyleStatsCache(tmp_path)
    AdaINStylizer(cache=cache).stylize(wavy_photo(), [stripes_image()])
    AdaINStylizer(cache=cache).stylize(wavy_photo(), [stripes_image()])
    assert cache.encodings == 1
    fresh_process = StyleStatsCache(tmp_path)  # the disk cache serves another process
    AdaINStylizer(cache=fresh_process).stylize(wavy_photo(), [stripes_image()])
    assert fresh_process.encodings == 0


def test_missing_inverters_are_reported(tmp_path) -> None:
    with pytest.raises(OptionError, match="train one with"):
        AdaINStylizer(inverters=tmp_path)


def _copy_inverter(level: str, target) -> None:
    import shutil

    from stylefuse.methods._feature_transfer import INVERTER_FOLDER

    shutil.copytree(INVERTER_FOLDER / level, target)


def test_a_single_inverter_model_folder_serves_its_level(tmp_path) -> None:
    """`stylefuse train inverter --level relu4_1 --out inv4` writes a model folder: usable as it is."""
    from stylefuse.methods._feature_transfer import INVERTER_FOLDER

    _copy_inverter("relu4_1", tmp_path / "inv4")
    with torch.no_grad():  # a recognisably different inverter: its output is the shipped one's, darkened
        model_weights = tmp_path / "inv4" / "model.safetensors"
        from safetensors.torch import load_file, save_file

        state = load_file(str(model_weights))
        (output_bias,) = [k for k, v in state.items() if k.endswith("bias") and v.shape == (3,)]
        state[output_bias] = state[output_bias] - 0.3
        save_file(state, str(model_weights))
    wct = feature_stylizer(WCTStylizer, inverters=tmp_path / "inv4")
    assert wct.inverter_folders(tmp_path / "inv4") == {
        "relu4_1": tmp_path / "inv4", **{level: INVERTER_FOLDER / level for level in WCTStylizer.levels[1:]}}
    shipped, own = feature_stylizer(AdaINStylizer), feature_stylizer(AdaINStylizer, inverters=tmp_path / "inv4")
    photo, style = wavy_photo(), stripes_image()
    darker = shipped.stylize(photo, [style]).mean() - own.stylize(photo, [style]).mean()
    assert darker > 0.1


def test_a_folder_of_inverters_per_level_still_works_and_a_wrong_level_is_refused(tmp_path) -> None:
    _copy_inverter("relu4_1", tmp_path / "set" / "relu4_1")
    per_level = feature_stylizer(AdaINStylizer, inverters=tmp_path / "set")
    assert per_level.stylize(wavy_photo(), [stripes_image()]).shape == (3, 64, 96)
    _copy_inverter("relu2_1", tmp_path / "inv2")
    with pytest.raises(OptionError, match="holds a relu2_1 inverter; this method inverts relu4_1"):
        AdaINStylizer(inverters=tmp_path / "inv2")
    assert feature_stylizer(WCTStylizer, inverters=tmp_path / "inv2").inverters["relu2_1"] is not None


def test_progress_counts_every_tile_and_is_silent_when_off(monkeypatch, capsys) -> None:
    import contextlib

    from stylefuse.methods import _feature_transfer

    advances: list[int] = []

    class Bar:
        def update(self, advance: int = 0, **fields) -> None:
            advances.append(advance)

    @contextlib.contextmanager
    def recording_bar(description: str, total: int, enabled: bool = True):
        advances.append(-total if enabled else 0)
        yield Bar()

    monkeypatch.setattr(_feature_transfer, "progress_bar", recording_bar)
    unbordered = feature_stylizer(AdaINStylizer, tile=160, overlap=48, border=0)
    # statistics: 2 x 2 pieces of 256 px; transfer: 2 x 2 tiles of 160 px sharing 48 px (or more, on the grid)
    assert unbordered.work_units(256, 256) == 4 + 4 and unbordered.work_units(100, 100) == 1
    stylizer = feature_stylizer(AdaINStylizer, tile=160, overlap=48, progress=True)
    # the mirrored border (32 px a side) makes the image 320 px: 2 x 2 pieces and 3 x 3 tiles
    assert stylizer.work_units(256, 256) == 4 + 9
    stylizer.stylize(wavy_photo(256, 256), [stripes_image()])
    assert -advances[0] == sum(advances[1:]) == 13
    advances.clear()
    monkeypatch.undo()
    feature_stylizer(WCTStylizer).stylize(wavy_photo(), [stripes_image()])  # progress off by default
    assert capsys.readouterr() == ("", "")
