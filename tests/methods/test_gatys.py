"""Gatys optimisation on tiny images: convergence, options, determinism, interruption."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import OptionError
from stylefuse.image import ops
from stylefuse.methods.gatys import GatysStylizer, StepReport

FAST = dict(size=48, steps=8, coarse_steps=4, style_layers=("relu1_1", "relu2_1", "relu3_1"),
            content_layers=("relu2_1",))


def _run(content: torch.Tensor, style: torch.Tensor, **options) -> tuple[torch.Tensor, list[StepReport]]:
    reports: list[StepReport] = []
    stylizer = GatysStylizer(**{**FAST, **options}, callback=reports.append)
    return stylizer.stylize(content, [style]), reports


@pytest.mark.parametrize("parameterization", ["laplacian", "pixels"])
def test_loss_decreases_and_style_moves_closer(small_content, small_style, parameterization: str) -> None:
    out, reports = _run(small_content, small_style, levels=1, steps=25, parameterization=parameterization)
    first, last = reports[0].terms, reports[-1].terms
    assert last.total < 0.6 * first.total  # measured: 0.45 (laplacian), 0.40 (pixels)
    assert out.shape == (3, 36, 48) and 0 <= out.min() and out.max() <= 1
    assert float(last.style) < float(first.style)


def test_pyramid_levels(small_content, small_style) -> None:
    stylizer = GatysStylizer(size=512, min_level_size=128)
    assert stylizer.level_sizes(384, 512) == [(96, 128), (192, 256), (384, 512)]
    assert GatysStylizer(levels=1).level_sizes(30, 40) == [(30, 40)]
    _, reports = _run(small_content, small_style, levels=2)
    assert [r.level for r in reports] == [0] * 4 + [1] * 8


def test_deterministic_with_seed(small_content, small_style) -> None:
    a, _ = _run(small_content, small_style, init="noise", seed=3)
    b, _ = _run(small_content, small_style, init="noise", seed=3)
    c, _ = _run(small_content, small_style, init="noise", seed=4)
    torch.testing.assert_close(a, b)
    assert (a - c).abs().max() > 1e-3


@pytest.mark.parametrize("init", ["content", "noise", "style", "adain"])
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("parameterization", ["laplacian", "pixels"])
def test_inits_and_optimizers(small_content, small_style, init: str, optimizer: str, parameterization: str) -> None:
    out, reports = _run(small_content, small_style, init=init, optimizer=optimizer, levels=1, steps=6,
                        parameterization=parameterization)
    assert out.shape == (3, 36, 48) and torch.isfinite(out).all()
    assert reports[-1].terms.total <= reports[0].terms.total


def test_blend_of_two_styles_lies_between(small_content, small_style) -> None:
    flat = torch.stack([torch.full((32, 32), 0.9), torch.full((32, 32), 0.1), torch.full((32, 32), 0.1)])
    stylizer = GatysStylizer(**FAST, levels=1)
    stylizer.stylize(small_content, [small_style, flat], [1.0, 0.0])
    only_stripes = stylizer.loss.style_targets["relu1_1"].clone()
    stylizer.stylize(small_content, [small_style, flat], [0.5, 0.5])
    half = stylizer.loss.style_targets["relu1_1"]
    stylizer.stylize(small_content, [flat], [1.0])
    only_flat = stylizer.loss.style_targets["relu1_1"]
    torch.testing.assert_close(half, (only_stripes + only_flat) / 2)


def test_interrupt_returns_best_so_far(small_content, small_style) -> None:
    def stop_after_three(report: StepReport) -> None:
        if report.step == 2:
            raise KeyboardInterrupt

    stylizer = GatysStylizer(**FAST, callback=stop_after_three)
    out = stylizer.stylize(small_content, [small_style])
    assert stylizer.interrupted and out.shape == (3, 36, 48) and torch.isfinite(out).all()


def test_preserve_color_keeps_content_chroma(small_content, small_style) -> None:
    out, _ = _run(small_content, small_style, levels=1)
    kept = ops.preserve_color(out, small_content)
    content = ops.resize(small_content, tuple(out.shape[-2:]))
    chroma = lambda image: ops.rgb_to_yiq(image)[1:]  # noqa: E731
    assert (chroma(kept) - chroma(content)).abs().mean() < 0.02
    assert (chroma(out) - chroma(content)).abs().mean() > (chroma(kept) - chroma(content)).abs().mean()


def test_bad_options() -> None:
    with pytest.raises(OptionError, match="unknown optimizer"):
        GatysStylizer(optimizer="sgd")
    with pytest.raises(OptionError, match="unknown parameterization"):
        GatysStylizer(parameterization="fourier")
    with pytest.raises(OptionError, match="unknown init"):
        GatysStylizer(init="zeros")
    with pytest.raises(OptionError, match="steps"):
        GatysStylizer(steps=0)
    with pytest.raises(OptionError, match="unknown VGG16 layers"):
        GatysStylizer(style_layers=("relu9_1",))


def test_style_by_layer_sums_to_the_style_term(small_content, small_style) -> None:
    loss = GatysStylizer(**FAST).loss
    loss.set_content(small_content[None])
    loss.set_style([small_style[None]])
    image = small_content[None].flip(-1)
    by_layer = loss.style_by_layer(loss.encoder(image))
    assert set(by_layer) == {"relu1_1", "relu2_1", "relu3_1"}
    assert all(v > 0 for v in by_layer.values())
    torch.testing.assert_close(sum(by_layer.values()), loss(image).style)


def test_a_one_pixel_content_read_from_a_file_is_stylized(tmp_path, small_style) -> None:
    """A 1x1 picture decodes to a tensor whose resized copies are channels-last; L-BFGS needs contiguous
    gradients (it used to fail with a `view` error)."""
    from stylefuse.image.io import read_image, write_image

    pixel = read_image(write_image(tmp_path / "one.png", torch.tensor([0.8, 0.1, 0.1]).view(3, 1, 1))).rgb
    for parameterization in ("laplacian", "pixels"):
        out, _ = _run(pixel, small_style, size=32, steps=2, levels=1, parameterization=parameterization)
        assert out.shape == (3, 32, 32) and torch.isfinite(out).all()


def test_too_many_levels_are_refused_naming_the_maximum(small_content, small_style) -> None:
    assert GatysStylizer.max_levels(64, 64) == 3 and GatysStylizer.max_levels(64, 200) == 3
    assert GatysStylizer.max_levels(16, 16) == 1 and GatysStylizer.max_levels(512, 384) == 5
    with pytest.raises(OptionError, match=r"10 pyramid levels are too many for a 64x64 result: at most 3"):
        GatysStylizer(size=64, steps=1, levels=10).stylize(torch.rand(3, 64, 64), [small_style])
    assert GatysStylizer(size=64, levels=None).level_sizes(64, 64)[0] == (64, 64)  # min_level_size 128: one level


def test_too_small_style_images_are_refused(small_content, small_style) -> None:
    with pytest.raises(OptionError, match="style image would be scaled to 6x6"):
        GatysStylizer(size=64, steps=1, style_scale=0.1).stylize(small_content, [small_style])
    with pytest.raises(OptionError, match="less elongated"):
        GatysStylizer(size=64, steps=1).stylize(small_content, [torch.rand(3, 2, 300)])


def test_bad_learning_rate_is_refused() -> None:
    with pytest.raises(OptionError, match="lr must be > 0"):
        GatysStylizer(optimizer="adam", lr=-1)
