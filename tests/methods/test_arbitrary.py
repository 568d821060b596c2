"""AdaIN and WCT with the shipped inverters: options, masks, tiling, caching, bad inputs."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.methods.adain import AdaINStylizer
from stylefuse.methods.wct import WCTStylizer

METHODS = [AdaINStylizer, WCTStylizer]


def _photo(height: int = 64, width: int = 96) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    return torch.stack([x, y, 0.5 + 0.4 * torch.sin(8 * x) * torch.cos(6 * y)]).clamp(0, 1)


def _stripes(size: int = 64) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    stripes = (torch.sin((x + y) * 0.5) > 0).float()
    return torch.stack([stripes, 0.3 * (1 - stripes), 0.9 * stripes])


def _stylizer(cls, **options):
    return cls(cache=StyleStatsCache(), **options)


@pytest.mark.parametrize("cls", METHODS)
def test_output_has_the_content_size_and_valid_values(cls) -> None:
    out = _stylizer(cls).stylize(_photo(), [_stripes()])
    assert out.shape == (3, 64, 96)
    assert torch.isfinite(out).all() and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("cls", METHODS)
def test_strength_moves_from_the_content_to_the_style(cls) -> None:
    photo, style = _photo(), _stripes()
    none = _stylizer(cls, strength=0.0).stylize(photo, [style])
    half = _stylizer(cls, strength=0.5).stylize(photo, [style])
    full = _stylizer(cls, strength=1.0).stylize(photo, [style])
    distances = [(image - photo).abs().mean().item() for image in (none, half, full)]
    assert distances[0] < distances[1] < distances[2]


def test_a_blend_lies_between_its_styles() -> None:
    photo, stripes, red = _photo(), _stripes(), torch.zeros(3, 64, 64)
    red[0] = 0.9
    stylizer = _stylizer(AdaINStylizer)
    only_red = stylizer.stylize(photo, [stripes, red], [0.0, 1.0])
    blend = stylizer.stylize(photo, [stripes, red], [0.5, 0.5])
    only_stripes = stylizer.stylize(photo, [stripes, red], [1.0, 0.0])
    redness = [image[0].mean() - image[1:].mean() for image in (only_stripes, blend, only_red)]
    assert redness[0] < redness[1] < redness[2]


def test_a_mask_puts_each_style_on_its_side() -> None:
    photo = _photo()
    texture = _stripes()[0]
    red = torch.stack([0.5 + 0.4 * texture, 0.1 * texture, 0.1 * texture])
    blue = torch.stack([0.1 * texture, 0.1 * texture, 0.5 + 0.4 * texture])
    mask = torch.zeros(3, 64, 96)
    mask[:, :, :48] = 1.0  # left half: first style
    out = _stylizer(AdaINStylizer, masks=[mask]).stylize(photo, [red, blue])
    left, right = out[:, :, :32], out[:, :, 64:]
    redness_left, redness_right = left[0].mean() - left[2].mean(), right[0].mean() - right[2].mean()
    assert redness_left > redness_right + 0.05


@pytest.mark.parametrize("masks, message", [
    ([torch.ones(3, 32, 32)], "masks must match the content"),
    ([torch.ones(3, 64, 96)] * 3, "one mask per style"),
])
def test_bad_masks_are_refused(masks, message) -> None:
    with pytest.raises(OptionError, match=message):
        _stylizer(AdaINStylizer, masks=masks).stylize(_photo(), [_stripes(), _stripes()])


@pytest.mark.parametrize("weights", [[0.0, 0.0], [-1.0, 2.0], [1.0]])
def test_bad_weights_are_refused(weights) -> None:
    with pytest.raises(OptionError, match="weights"):
        _stylizer(AdaINStylizer).stylize(_photo(), [_stripes(), _stripes()], weights)


@pytest.mark.parametrize("cls", METHODS)
def test_one_colour_style_and_tiny_content_give_no_nan(cls) -> None:
    flat = torch.full((3, 48, 48), 0.4)
    assert torch.isfinite(_stylizer(cls).stylize(_photo(), [flat])).all()
    assert torch.isfinite(_stylizer(cls).stylize(_photo(16, 16), [_stripes()])).all()


def test_too_small_content_is_refused() -> None:
    with pytest.raises(OptionError, match="too small"):
        _stylizer(AdaINStylizer).stylize(_photo(8, 40), [_stripes()])


@pytest.mark.parametrize("cls", METHODS)
def test_tiled_and_untiled_results_agree(cls) -> None:
    """Tiles share the whole-image statistics and are encoded and inverted with 64 px of context that
    is cropped off, so only pixels whose receptive field reaches beyond that context can differ.
    A mean absolute difference below 0.005 (about one grey level) and a 99th percentile below 0.03 are
    invisible next to the stylization itself, which moves pixels by more than 0.1; without context
    margins the same tiling differs several times more (checked below), WCT's four chained levels
    amplifying the border errors."""
    photo = _photo(256, 256)
    whole = _stylizer(cls, tile=512).stylize(photo, [_stripes()])
    tiled = _stylizer(cls, tile=160, overlap=48).stylize(photo, [_stripes()])
    bare = _stylizer(cls, tile=160, overlap=48, margin=0).stylize(photo, [_stripes()])
    difference = (whole - tiled).abs()
    assert difference.mean() < 0.005 and difference.flatten().quantile(0.99) < 0.03
    assert (whole - bare).abs().mean() > 2 * difference.mean()
    assert (whole - photo).abs().mean() > 0.1


def test_style_statistics_are_computed_once(tmp_path) -> None:
    cache = StyleStatsCache(tmp_path)
    AdaINStylizer(cache=cache).stylize(_photo(), [_stripes()])
    AdaINStylizer(cache=cache).stylize(_photo(), [_stripes()])
    assert cache.encodings == 1
    fresh_process = StyleStatsCache(tmp_path)  # the disk cache serves another process
    AdaINStylizer(cache=fresh_process).stylize(_photo(), [_stripes()])
    assert fresh_process.encodings == 0


def test_missing_inverters_are_reported(tmp_path) -> None:
    with pytest.raises(OptionError, match="train one with"):
        AdaINStylizer(inverters=tmp_path)


def test_strength_out_of_range_is_refused() -> None:
    with pytest.raises(OptionError, match="^strength must be between 0 and 1, got 1.5$"):
        AdaINStylizer(strength=1.5)
    with pytest.raises(TypeError):
        AdaINStylizer(alpha=0.5)  # the old name is gone: one meaning per option name
    assert not hasattr(AdaINStylizer, "strength_option")


def test_each_method_has_its_own_default_strength() -> None:
    assert AdaINStylizer().strength == 1.0
    assert WCTStylizer().strength == WCTStylizer.default_strength == 0.5
    assert WCTStylizer(strength=1.0).strength == 1.0


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
    wct = _stylizer(WCTStylizer, inverters=tmp_path / "inv4")
    assert wct.inverter_folders(tmp_path / "inv4") == {
        "relu4_1": tmp_path / "inv4", **{level: INVERTER_FOLDER / level for level in WCTStylizer.levels[1:]}}
    shipped, own = _stylizer(AdaINStylizer), _stylizer(AdaINStylizer, inverters=tmp_path / "inv4")
    darker = shipped.stylize(_photo(), [_stripes()]).mean() - own.stylize(_photo(), [_stripes()]).mean()
    assert darker > 0.1


def test_a_folder_of_inverters_per_level_still_works_and_a_wrong_level_is_refused(tmp_path) -> None:
    _copy_inverter("relu4_1", tmp_path / "set" / "relu4_1")
    assert _stylizer(AdaINStylizer, inverters=tmp_path / "set").stylize(_photo(), [_stripes()]).shape == (3, 64, 96)
    _copy_inverter("relu2_1", tmp_path / "inv2")
    with pytest.raises(OptionError, match="holds a relu2_1 inverter; this method inverts relu4_1"):
        AdaINStylizer(inverters=tmp_path / "inv2")
    assert _stylizer(WCTStylizer, inverters=tmp_path / "inv2").inverters["relu2_1"] is not None


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
    stylizer = _stylizer(AdaINStylizer, tile=160, overlap=48, progress=True)
    # statistics: 2 x 2 pieces of 256 px; transfer: 2 x 2 tiles of 160 px sharing 48 px (or more, on the grid)
    assert stylizer.work_units(256, 256) == 4 + 4 and stylizer.work_units(100, 100) == 1
    stylizer.stylize(_photo(256, 256), [_stripes()])
    assert -advances[0] == sum(advances[1:]) == 8
    advances.clear()
    monkeypatch.undo()
    _stylizer(WCTStylizer).stylize(_photo(), [_stripes()])  # progress off by default
    assert capsys.readouterr() == ("", "")
