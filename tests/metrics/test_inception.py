"""The offline TF-Inception network: feature shapes at the style layers and the pool, stopping early,
input checks, and a clear error when its package is missing."""

from __future__ import annotations

import pytest
import torch

from stylefuse.errors import StylefuseError
from stylefuse.metrics import inception
from stylefuse.metrics.inception import STYLE_LAYERS, InceptionFeatures, InceptionUnavailable


@pytest.fixture(scope="module")
def network() -> InceptionFeatures:
    return InceptionFeatures()


def test_style_layers_and_pool_features(network) -> None:
    images = torch.rand(2, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    features = network(images, STYLE_LAYERS + ("pool",))
    assert set(features) == set(STYLE_LAYERS) | {"pool"}
    assert [features[name].shape[1] for name in STYLE_LAYERS] == [64, 192, 288, 768]
    assert features["pool"].shape == (2, 2048) and torch.isfinite(features["pool"]).all()
    sizes = [features[name].shape[-1] for name in STYLE_LAYERS]
    assert sizes == sorted(sizes, reverse=True)  # deeper layers are coarser
    alone = network(images[:1], ("pool",))
    torch.testing.assert_close(alone["pool"], features["pool"][:1], atol=1e-4, rtol=1e-4)


def test_only_the_requested_layers_are_returned_and_inputs_are_clamped(network) -> None:
    image = torch.rand(1, 3, 32, 32)
    shallow = network(image, ("conv_2",))
    assert list(shallow) == ["conv_2"]
    torch.testing.assert_close(network(image * 3 - 1, ("conv_2",))["conv_2"],
                               network((image * 3 - 1).clamp(0, 1), ("conv_2",))["conv_2"])


def test_bad_shapes_are_refused(network) -> None:
    with pytest.raises(ValueError, match=r"expected images \(B, 3, H, W\), got \(3, 32, 32\)"):
        network(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="got \\(1, 1, 32, 32\\)"):
        network(torch.rand(1, 1, 32, 32))


def test_a_missing_package_is_a_user_error_that_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(inception.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InceptionUnavailable, match=r"pip install 'stylefuse\[eval\]'") as caught:
        inception._model_path()
    assert isinstance(caught.value, StylefuseError) and caught.value.exit_code == 2
