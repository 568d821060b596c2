"""Personalising a GAN generator: which layers each strategy trains, FreezeD, refusals, and a tiny run that
changes only the trained layers and writes a usable model folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from stylefuse import hub
from stylefuse.errors import OptionError
from stylefuse.hub import save_model
from stylefuse.image.io import write_image
from stylefuse.methods.personalize_gan import (
    GAN_STRATEGIES,
    freeze_lower_layers,
    generator_parts,
    personalize_gan,
)
from stylefuse.nn.discriminators import PatchDiscriminator
from stylefuse.nn.generators import ResnetGenerator, UnetGenerator
from tests.helpers import stripes_image, wavy_photo


def test_strategies_pick_nested_parts_of_the_generator() -> None:
    generator = ResnetGenerator(base=4, blocks=2)
    parts = {strategy: generator_parts(generator, strategy) for strategy in GAN_STRATEGIES}
    assert parts["all"] == list(generator.net)
    assert parts["last-layers"] == parts["decoder"][-5:] == list(generator.net)[-5:]
    assert parts["decoder"] == list(generator.net)[-8:]
    assert isinstance(parts["decoder"][-1], torch.nn.Tanh)


def test_freeze_lower_layers_freezes_the_first_convolutions() -> None:
    discriminator = PatchDiscriminator(base=4)
    convolutions = [m for m in discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert freeze_lower_layers(discriminator, 2) == 2
    assert [c.weight.requires_grad for c in convolutions] == [False, False] + [True] * (len(convolutions) - 2)
    assert freeze_lower_layers(PatchDiscriminator(base=4), 99) == len(convolutions)


def _base(tmp_path: Path) -> Path:
    config = dict(base=4, blocks=1)
    torch.manual_seed(0)
    return save_model(ResnetGenerator(**config), tmp_path / "base", "resnet_generator", config,
                      extra={"method": "adversarial_style"})


def test_refusals(tmp_path) -> None:
    with pytest.raises(OptionError, match="choose --freeze from last-layers, decoder, all"):
        personalize_gan([], tmp_path / "out", _base(tmp_path), tmp_path, strategy="norm")
    save_model(UnetGenerator(depth=5, base=4), tmp_path / "unet", "unet_generator", dict(depth=5, base=4))
    with pytest.raises(OptionError, match="holds a unet_generator; GAN personalisation fine-tunes ResNet"):
        personalize_gan([], tmp_path / "out", tmp_path / "unet", tmp_path)


def test_a_tiny_run_trains_only_the_chosen_layers(tmp_path) -> None:
    base = _base(tmp_path)
    for index in range(2):
        write_image(tmp_path / "photos" / f"{index}.png", wavy_photo(40, 48).roll(index * 7, dims=-1))
    write_image(tmp_path / "style.png", stripes_image(48))
    notes: list[str] = []
    summary = personalize_gan([tmp_path / "style.png"], tmp_path / "out", base, tmp_path / "photos",
                              strategy="last-layers", steps=2, size=32, batch_size=1, lr=1e-2, validate_every=0,
                              progress=False, report=notes.append)
    assert summary["steps"] == 2 and summary["state"] == "done"
    assert any("discriminator starts from scratch" in note for note in notes)
    assert any(note.startswith("training ") and "last-layers" in note for note in notes)
    before, after = load_file(str(base / "model.safetensors")), load_file(str(tmp_path / "out" / "model.safetensors"))
    trained = {f"net.{index}" for index in range(len(ResnetGenerator(base=4, blocks=1).net))[-5:]}
    changed = {key.rsplit(".", 1)[0] for key in before if not torch.equal(before[key], after[key])}
    assert changed and all(any(key == p or key.startswith(p + ".") for p in trained) for key in changed)
    config = hub.read_config(tmp_path / "out")
    assert config["base"] == str(base) and config["strategy"] == "last-layers" and config["trained_parameters"] > 0
    assert hub.load(tmp_path / "out").stylize(wavy_photo(32, 32)).shape == (3, 32, 32)
