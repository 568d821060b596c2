"""Every registered network: shapes, options by name, and a save/load round trip through a model folder."""

from __future__ import annotations

import json

import pytest
import torch

from stylefuse.hub import ModelFolderError, load_model, read_config, save_model
from stylefuse.nn.layers import NORMS, init_weights, norm_layer
from stylefuse.registry import NETWORKS

# name -> (small config, input or a tuple of inputs)
CASES = {
    "fast_stylizer": (dict(num_styles=2, channels=[4, 8, 8], blocks=1), (torch.rand(2, 3, 32, 48), torch.eye(2))),
    "vgg16_inverter": (dict(level="relu3_1", width=0.25), torch.rand(2, 256, 8, 8) * 100),
    "resnet_generator": (dict(blocks=2, base=8), torch.rand(2, 3, 32, 48) * 2 - 1),
    "unet_generator": (dict(depth=5, base=8), torch.rand(2, 3, 64, 32) * 2 - 1),
    "patch_discriminator": (dict(base=8), torch.rand(2, 3, 70, 70)),
    "multiscale_discriminator": (dict(base=8, scales=2), torch.rand(1, 3, 64, 64)),
    "dcgan_generator": (dict(size=32, base=8, latent=16), torch.randn(3, 16)),
    "dcgan_discriminator": (dict(size=32, base=8), torch.rand(3, 3, 32, 32)),
    "member_weights": (dict(members=3), torch.rand(3, 3, 16, 16)),
}


def test_every_network_has_a_case() -> None:
    assert set(NETWORKS.names()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_round_trip(name: str, tmp_path) -> None:
    config, x = CASES[name]
    torch.manual_seed(0)
    network = NETWORKS.create(name, **config).eval()
    args = x if isinstance(x, tuple) else (x,)
    with torch.no_grad():
        y = network(*args)
    outputs = y if isinstance(y, list) else [y]
    assert all(torch.isfinite(o).all() for o in outputs)
    if name.endswith("generator") and name != "dcgan_generator":
        assert y.shape == (x.shape[0], 3, *x.shape[-2:]) and y.abs().max() <= 1
    save_model(network, tmp_path / name, name, config, extra={"note": "test"})
    loaded, document = load_model(tmp_path / name)
    assert document["note"] == "test" and document["config"] == config
    with torch.no_grad():
        z = loaded(*args)
    for a, b in zip(outputs, z if isinstance(z, list) else [z]):
        torch.testing.assert_close(a, b, atol=2e-2, rtol=1e-2)  # fp16 storage


def test_patchgan_sees_70_pixels() -> None:
    network = NETWORKS.create("patch_discriminator", base=4, norm="none")  # instance norm is global
    x = torch.rand(1, 3, 140, 140, requires_grad=True)
    network(x)[0, 0, 5, 5].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3)))
    assert rows.max() - rows.min() + 1 == 70


def test_dcgan_output_size_and_patch_output() -> None:
    assert NETWORKS.create("dcgan_generator", size=64, base=4)(torch.randn(2, 100)).shape == (2, 3, 64, 64)
    assert NETWORKS.create("dcgan_discriminator", size=64, base=4)(torch.rand(2, 3, 64, 64)).shape == (2,)
    with pytest.raises(ValueError, match="power of two"):
        NETWORKS.create("dcgan_generator", size=48)


def test_norms_inits_and_errors() -> None:
    assert set(NORMS) >= {"instance", "batch", "none"}
    assert isinstance(norm_layer("batch", 4), torch.nn.BatchNorm2d)
    with pytest.raises(ValueError, match="unknown norm"):
        norm_layer("group", 4)
    for scheme in ("normal", "xavier", "kaiming"):
        layer = init_weights(torch.nn.Conv2d(64, 64, 3), scheme)
        assert layer.bias.abs().max() == 0
    normal = init_weights(torch.nn.Conv2d(64, 64, 3), "normal", 0.02)
    assert abs(normal.weight.std().item() - 0.02) < 0.002
    with pytest.raises(ValueError, match="multiples"):
        NETWORKS.create("unet_generator", depth=5, base=4)(torch.rand(1, 3, 40, 40))
    spectral = NETWORKS.create("patch_discriminator", base=4, spectral=True)
    assert any("parametrizations" in name for name, _ in spectral.named_modules())


def test_model_folder_errors(tmp_path) -> None:
    with pytest.raises(ModelFolderError, match="not a model folder"):
        read_config(tmp_path / "missing")
    folder = tmp_path / "m"
    save_model(NETWORKS.create("patch_discriminator", base=4), folder, "patch_discriminator", {"base": 4})
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelFolderError, match="not valid JSON"):
        read_config(folder)
    (folder / "config.json").write_text(json.dumps({"format_version": 99, "network": "x", "config": {}}))
    with pytest.raises(ModelFolderError, match="format version 99"):
        read_config(folder)
    (folder / "config.json").write_text(json.dumps({"format_version": 1, "network": "patch_discriminator",
                                                    "config": {"base": 8}}))
    with pytest.raises(ModelFolderError, match="does not fit"):
        load_model(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="model.safetensors is missing"):
        read_config(folder)
