"""Thumbnail instance norm: tiles that share the whole picture's statistics reproduce a single pass; tiles with
their own statistics do not; the hooks leave the network as it was."""

from __future__ import annotations

import pytest
import torch

from stylefuse.image import ops
from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.nn.thumbnail_norm import fixed_statistics, record_statistics, run_in_tiles
from tests.helpers import sky_photo


@pytest.fixture
def network() -> FastStylizerNet:
    torch.manual_seed(0)
    network = FastStylizerNet(num_styles=2, channels=(4, 4, 8), blocks=1).eval()
    with torch.no_grad():
        for parameter in network.style_parameters().values():
            parameter.add_(torch.randn_like(parameter))
    return network


def _forward(network: FastStylizerNet):
    style = torch.tensor([[1.0, 0.0]])
    return lambda images: network(images, style.expand(images.shape[0], -1))


def test_tiles_with_the_whole_pictures_statistics_match_a_single_pass(network) -> None:
    image = sky_photo(128)[None]
    fn = _forward(network)
    with torch.no_grad():
        single = fn(image)
        fixed = run_in_tiles(fn, network, image, tile=48, thumbnail=128, overlap=16, margin=64, multiple=8)
        own = ops.apply_tiled(fn, image, tile=48, overlap=16, multiple=8, margin=64)
    assert (fixed - single).abs().max() < 2e-3
    assert (own - single).abs().max() > 10 * (fixed - single).abs().max()  # each tile its own instance: seams
    with torch.no_grad():  # the hooks are gone: the network normalises by its input again
        assert torch.equal(fn(image), single)


def test_a_thumbnails_statistics_are_close_to_the_full_pictures(network) -> None:
    image = sky_photo(128)[None]
    fn = _forward(network)
    full = record_statistics(network, lambda: fn(image))
    small = record_statistics(network, lambda: fn(ops.resize_long_side(image, 64)))
    assert full.keys() == small.keys() and len(full) == 3 + 2 + 2  # down, block, up norms
    first = next(iter(full))
    assert torch.allclose(full[first][0], small[first][0], atol=0.05, rtol=0.1)
    with pytest.raises(ValueError, match="no statistics"):
        with fixed_statistics(network, {first: full[first]}):
            pass


def test_the_fast_stylizer_runs_large_pictures_in_tiles(tmp_path) -> None:
    from stylefuse.methods.fast import FastStylizer

    image = ops.resize(sky_photo(128), (200, 300))
    tiled = FastStylizer(tile=256, thumbnail=1024, backend="torch")
    whole = FastStylizer(tile=None, backend="torch")
    name = whole.names[0]
    got, want = tiled.stylize(image, [name]), whole.stylize(image, [name])
    assert got.shape == want.shape == (3, 200, 300)
    assert (got - want).abs().mean() < 3e-3  # strong styles amplify the tiles' small differences: 0.002 here
