"""Image operations: resizing, pyramids, colour preservation, tiling."""

from __future__ import annotations

import pytest
import torch

from stylefuse.image import ops


def test_sizes_and_pyramid() -> None:
    assert ops.size_for_long_side(300, 451, 256) == (170, 256)
    assert ops.pyramid_sizes(384, 512, 3) == [(96, 128), (192, 256), (384, 512)]
    with pytest.raises(ValueError):
        ops.pyramid_sizes(10, 10, 0)
    assert ops.resize(torch.rand(3, 40, 50), (20, 25)).shape == (3, 20, 25)


def test_yiq_round_trip() -> None:
    x = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(ops.yiq_to_rgb(ops.rgb_to_yiq(x)), x, atol=1e-5, rtol=0)


def test_value_ranges_and_luminance_reference_values() -> None:
    x = torch.tensor([0.0, 0.25, 0.5, 1.0])
    torch.testing.assert_close(ops.to_signed_range(x), torch.tensor([-1.0, -0.5, 0.0, 1.0]))
    torch.testing.assert_close(ops.from_signed_range(torch.tensor([-2.0, -1.0, 0.0, 0.5, 3.0])),
                               torch.tensor([0.0, 0.0, 0.5, 0.75, 1.0]))
    rgb = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1) * torch.ones(3, 2, 2)
    torch.testing.assert_close(ops.luminance(rgb), torch.full((1, 2, 2), 0.299))  # Rec. 601: R weighs 0.299
    grey = torch.rand(2, 1, 4, 5).expand(2, 3, 4, 5)
    torch.testing.assert_close(ops.luminance(grey), grey[:, :1])  # the weights sum to 1
    colours = torch.rand(2, 3, 4, 5)
    torch.testing.assert_close(ops.luminance(colours), ops.rgb_to_yiq(colours)[:, :1])


def test_preserve_color_gives_the_content_chroma_and_luminance_statistics() -> None:
    generator = torch.Generator().manual_seed(0)
    # mid-tones, so that no colour leaves [0, 1] and gets clamped
    stylized = 0.3 + 0.4 * torch.rand(3, 16, 16, generator=generator)
    content = 0.4 + 0.2 * torch.rand(3, 16, 16, generator=generator)
    result = ops.preserve_color(stylized, content)
    assert result.shape == (3, 16, 16)
    y, y_content = ops.luminance(result), ops.luminance(content)
    torch.testing.assert_close(y.mean(), y_content.mean(), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(), y_content.std(), atol=1e-4, rtol=0)
    torch.testing.assert_close(ops.rgb_to_yiq(result)[1:], ops.rgb_to_yiq(content)[1:], atol=1e-5, rtol=0)
    y_stylized = ops.luminance(stylized)  # the stylized luminance's pattern, rescaled
    assert torch.corrcoef(torch.stack([y.flatten(), y_stylized.flatten()]))[0, 1] > 0.99
    torch.testing.assert_close(ops.preserve_color(stylized[None], content[None])[0], result)


def test_split_evenly_reference_values() -> None:
    assert ops.split_evenly(100, 100) == [(0, 100)]
    assert ops.split_evenly(101, 100) == [(0, 50), (50, 101)]  # two halves, not 100 + 1
    assert ops.split_evenly(300, 128, multiple=8) == [(0, 96), (96, 200), (200, 300)]
    for length, piece, multiple in [(1000, 256, 8), (77, 10, 1), (513, 512, 16)]:
        bounds = ops.split_evenly(length, piece, multiple)
        assert bounds[0][0] == 0 and bounds[-1][1] == length
        assert all(a[1] == b[0] and b[0] % multiple == 0 for a, b in zip(bounds, bounds[1:]))
        assert max(end - start for start, end in bounds) <= piece + multiple


def test_overlapping_tiles_share_exactly_the_overlap() -> None:
    assert ops.overlapping_tiles(64, 64, 16) == [(0, 64)]
    assert ops.overlapping_tiles(150, 64, 16, multiple=4) == [(0, 60), (44, 104), (88, 150)]
    tiles = ops.overlapping_tiles(1000, 256, 32, multiple=8)
    assert tiles[0][0] == 0 and tiles[-1][1] == 1000
    assert all(a[1] - b[0] == 32 and b[0] % 8 == 0 for a, b in zip(tiles, tiles[1:]))


def test_rotate_hue_keeps_luminance_and_turns_chroma() -> None:
    # mid-tones with little chroma, so that no turned colour leaves [0, 1] and gets clamped
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 0.2 + 0.4
    angle, saturation = torch.tensor([0.0, torch.pi / 2, torch.pi]), torch.tensor([1.0, 1.0, 0.5])
    y = ops.rotate_hue(x, angle, saturation)
    torch.testing.assert_close(y[0], x[0], atol=1e-5, rtol=0)  # no turn, no change
    yiq_x, yiq_y = ops.rgb_to_yiq(x), ops.rgb_to_yiq(y)
    torch.testing.assert_close(yiq_y[:, 0], yiq_x[:, 0], atol=1e-5, rtol=0)  # luminance kept
    torch.testing.assert_close(yiq_y[1, 1], -yiq_x[1, 2], atol=1e-5, rtol=0)  # a quarter turn: I <- -Q
    torch.testing.assert_close(yiq_y[2, 1:], -0.5 * yiq_x[2, 1:], atol=1e-5, rtol=0)  # half turn, half saturation


def test_tiled_equals_untiled_for_a_local_filter() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 3, 5, padding=2, padding_mode="replicate")
    image = torch.rand(1, 3, 150, 230)
    with torch.no_grad():
        whole = conv(image)
        tiled = ops.apply_tiled(conv, image, tile=64, overlap=16)
    # a 5x5 filter only differs within 2 px of a tile edge, where the blend gives that tile < 1/8 weight
    assert tiled.shape == whole.shape and (tiled - whole).abs().max() < 0.1
    assert (tiled - whole).abs().mean() < 2e-3
    with pytest.raises(ValueError, match="overlap"):
        ops.apply_tiled(conv, image, tile=16, overlap=16)


def test_tiles_with_context_margins_reproduce_a_single_pass() -> None:
    """With a margin covering the receptive field (here 2 px per 5x5 conv, 8 px of a stride-4
    encoder-decoder), and tile starts on the stride grid, tiling is exact up to float rounding."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 5, padding=2), torch.nn.AvgPool2d(4),
                              torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.Upsample(scale_factor=4),
                              torch.nn.Conv2d(8, 3, 5, padding=2))
    image = torch.rand(1, 3, 150, 230)
    with torch.no_grad():
        whole = ops.apply_padded(net, image, 4)
        exact = ops.apply_tiled(net, image, tile=64, overlap=16, multiple=4, margin=24)
        no_margin = ops.apply_tiled(net, image, tile=64, overlap=16, multiple=4)
    assert (exact - whole).abs().max() < 1e-5
    assert (no_margin - whole).abs().max() > 1e-3


def test_apply_padded_restores_the_size() -> None:
    seen = []
    result = ops.apply_padded(lambda x: seen.append(x.shape) or x * 2, torch.ones(1, 3, 30, 33), multiple=16)
    assert seen == [(1, 3, 32, 48)] and result.shape == (1, 3, 30, 33)




def test_reflect_border_mirrors_and_crop_border_undoes_it() -> None:
    images = torch.rand(2, 3, 10, 12)
    padded = ops.reflect_border(images, 4)
    assert padded.shape == (2, 3, 18, 20)
    # the row just above the image mirrors its second row; the first column mirrors its fifth
    assert torch.equal(padded[..., 3, 4:-4], images[..., 1, :]) and torch.equal(padded[..., 4:-4, 0], images[..., 4])
    assert torch.equal(ops.crop_border(padded, 4), images) and ops.reflect_border(images, 0) is images
    with pytest.raises(ValueError, match="border"):
        ops.reflect_border(images, 10)
