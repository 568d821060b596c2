"""The perceptual style-transfer loss: zero at its targets, relative (scale-free) terms, weights, errors."""

from __future__ import annotations

import pytest
import torch

from stylefuse.encoders.vgg import MultiLayerEncoder
from stylefuse.losses.perceptual import StyleTransferLoss

CONTENT, STYLE = ("relu3_1",), ("relu1_1", "relu2_1")


@pytest.fixture(scope="module")
def encoder() -> MultiLayerEncoder:
    return MultiLayerEncoder(CONTENT + STYLE)


def _loss(encoder, **weights) -> StyleTransferLoss:
    return StyleTransferLoss(encoder, content_layers=CONTENT, style_layers=STYLE, **weights)


def _image(seed: int, size: int = 32) -> torch.Tensor:
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_the_targets_themselves_have_zero_loss(encoder) -> None:
    loss, image = _loss(encoder, tv_weight=0.0), _image(0)
    loss.set_content(image)
    loss.set_style([image])
    terms = loss(image)
    assert terms.content.item() == pytest.approx(0, abs=1e-6) and terms.style.item() == pytest.approx(0, abs=1e-6)
    assert terms.tv.item() == 0 and terms.total.item() == pytest.approx(0, abs=1e-6)


def test_weights_scale_their_terms_and_style_layers_sum_to_the_style_term(encoder) -> None:
    content, style, image = _image(0), _image(1, 40), _image(2)
    results = []
    for weights in (dict(content_weight=1.0, style_weight=1.0, tv_weight=1.0),
                    dict(content_weight=3.0, style_weight=2.0, tv_weight=0.5)):
        loss = _loss(encoder, **weights)
        loss.set_content(content)
        loss.set_style([style])
        results.append(loss(image))
        by_layer = loss.style_by_layer(encoder(image))
        assert set(by_layer) == set(STYLE)
        torch.testing.assert_close(sum(by_layer.values()), results[-1].style)
    one, other = results
    assert one.content > 0 and one.style > 0 and one.tv > 0
    torch.testing.assert_close(other.content, 3 * one.content)
    torch.testing.assert_close(other.style, 2 * one.style)
    torch.testing.assert_close(other.tv, 0.5 * one.tv)
    torch.testing.assert_close(other.total, other.content + other.style + other.tv)


def test_the_content_term_is_relative_so_its_scale_does_not_depend_on_the_image(encoder) -> None:
    """Each term is divided by the mean square of its target: a uniformly brighter image at the same relative
    distance gives a loss of the same order, not one that grows with the feature magnitudes."""
    loss = _loss(encoder)
    loss.set_content(_image(0))
    loss.set_style([_image(1)])
    assert 0.01 < loss(_image(2)).content.item() < 10


def test_a_zero_weight_style_does_not_count(encoder) -> None:
    first, second, image = _image(1), _image(3), _image(2)
    only, weighted = _loss(encoder), _loss(encoder)
    for loss in (only, weighted):
        loss.set_content(image)
    only.set_style([first])
    weighted.set_style([first, second], [1.0, 0.0])
    torch.testing.assert_close(only(image).style, weighted(image).style)


def test_the_loss_has_gradients_for_the_image(encoder) -> None:
    loss = _loss(encoder, tv_weight=1.0)
    loss.set_content(_image(0))
    loss.set_style([_image(1)])
    image = _image(2).requires_grad_()
    loss(image).total.backward()
    assert image.grad is not None and torch.isfinite(image.grad).all() and image.grad.abs().sum() > 0


def test_errors(encoder) -> None:
    with pytest.raises(ValueError, match="style_weight must be >= 0, got -1"):
        _loss(encoder, style_weight=-1)
    loss = _loss(encoder)
    with pytest.raises(RuntimeError, match="call set_content"):
        loss(_image(0))
    with pytest.raises(ValueError, match="at least one style"):
        loss.set_style([])
    for weights in ([1.0], [-1.0, 2.0], [0.0, 0.0]):
        with pytest.raises(ValueError, match="style weights must be non-negative"):
            loss.set_style([_image(0), _image(1)], weights)
