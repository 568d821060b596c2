"""Helpers shared by several test modules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import pytest
import torch

from stylefuse.cli import main
from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.hub import load_model, save_model
from stylefuse.image.io import write_image
from stylefuse.methods._feature_transfer import StyleStatsCache
from stylefuse.methods.cyclegan import CycleGAN, CycleGANRecipe
from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.registry import NETWORKS
from stylefuse.train.loop import Trainer, TrainOptions


def save_style_model(folder: Path, channels: Sequence[int], blocks: int, names: Sequence[str] = ("ink", "sun")) -> Path:
    """A multi-style model folder with distinct random (γ, β) per style (untrained convolutions)."""
    torch.manual_seed(0)
    config = dict(num_styles=len(names), channels=list(channels), blocks=blocks)
    network = FastStylizerNet(**config)
    with torch.no_grad():
        for parameter in network.style_parameters().values():
            parameter.add_(torch.randn_like(parameter))
    return save_model(network, folder, "fast_stylizer", config, extra={"method": "fast", "style_names": list(names)})


def run_cli(args: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["stylefuse", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def wavy_photo(height: int = 64, width: int = 96) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    return torch.stack([x, y, 0.5 + 0.4 * torch.sin(8 * x) * torch.cos(6 * y)]).clamp(0, 1)


def stripes_image(size: int = 64) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    stripes = (torch.sin((x + y) * 0.5) > 0).float()
    return torch.stack([stripes, 0.3 * (1 - stripes), 0.9 * stripes])


def feature_stylizer(cls, **options):
    return cls(cache=StyleStatsCache(), **options)


def disc_photo(seed: int = 0, size: int = 64) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    disc = (((x - 0.5) ** 2 + (y - 0.45) ** 2) < 0.08).float()
    noise = torch.rand(3, size, size, generator=torch.Generator().manual_seed(seed)) * 0.05
    return (torch.stack([0.2 + 0.6 * disc, 0.3 + 0.4 * x, 0.8 - 0.5 * y]) + noise).clamp(0, 1)


def noisy_copy(image: torch.Tensor, amount: float) -> torch.Tensor:
    return (image + amount * torch.randn(image.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)


def cyclegan_trainer(tmp_path: Path, steps: int = 2, size: int = 32, lr: float = 2e-4, **options) -> Trainer:
    generator = torch.Generator().manual_seed(0)
    for index in range(2):
        write_image(tmp_path / "a" / f"{index}.png", torch.rand(3, 40, 40, generator=generator))
    recipe = CycleGANRecipe(size=size, blocks=1, base=4, pool=2)
    settings = dict(steps=steps, lr=lr, checkpoint_every=0, sample_every=0, progress=False)
    torch.manual_seed(0)
    return Trainer(CycleGAN(recipe), UnpairedCrops([ImageFolder(tmp_path / "a")] * 2, size),
                   TrainOptions(**{**settings, **options}), tmp_path / "run")


def random_folder(root: Path, name: str, count: int, seed: int) -> Path:
    generator = torch.Generator().manual_seed(seed)
    for index in range(count):
        write_image(root / name / f"img{index}.png", torch.rand(3, 40, 48, generator=generator))
    return root / name


def check_network_round_trip(name: str, config: dict, x, folder: Path) -> None:
    """A registered network built from ``config`` runs on ``x`` (a tensor or a tuple of inputs) with finite outputs
    (image generators: the input's size, values in [-1, 1]) and gives the same outputs after a save/load round trip
    through a model folder."""
    torch.manual_seed(0)
    network = NETWORKS.create(name, **config).eval()
    args = x if isinstance(x, tuple) else (x,)
    with torch.no_grad():
        y = network(*args)
    outputs = y if isinstance(y, list) else [y]
    assert all(torch.isfinite(o).all() for o in outputs)
    if name.endswith("generator") and name != "dcgan_generator":
        assert y.shape == (x.shape[0], 3, *x.shape[-2:]) and y.abs().max() <= 1
    save_model(network, folder, name, config, extra={"note": "test"})
    loaded, document = load_model(folder)
    assert document["note"] == "test" and document["config"] == config
    with torch.no_grad():
        z = loaded(*args)
    for a, b in zip(outputs, z if isinstance(z, list) else [z]):
        torch.testing.assert_close(a, b, atol=2e-2, rtol=1e-2)  # fp16 storage


def sky_photo(size: int = 128, seed: int = 0) -> torch.Tensor:
    """A flat sky over textured ground, (3, size, size): the sky (top half) a gentle left-to-right gradient
    (stylizers exaggerate steep ones into bands of their own), the ground a random brown texture. A dark
    band along the border shows most clearly on it."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    sky = torch.stack([0.55 + 0.04 * x, 0.68 + 0.03 * x, 0.92 + 0.02 * x])
    texture = torch.rand(3, size, size, generator=torch.Generator().manual_seed(seed))
    ground = (0.3 + 0.25 * texture) * torch.tensor([0.9, 0.7, 0.4]).view(3, 1, 1)
    return torch.where(y < 0.5, sky, ground).clamp(0, 1)


def border_band(image: torch.Tensor, rows: int, width: int = 16) -> float:
    """Mean luminance of the outermost ``width`` pixels minus that of the next ``width`` pixels inwards,
    over the top ``rows`` rows of (3, H, W) (the sky, less a margin above the horizon, which inverters
    blur): negative for a dark band along the border."""
    from stylefuse.image.ops import luminance

    luma = luminance(image)[0]
    height, wide = luma.shape
    y, x = torch.meshgrid(torch.arange(height), torch.arange(wide), indexing="ij")
    depth = torch.minimum(torch.minimum(y, height - 1 - y), torch.minimum(x, wide - 1 - x))
    sky = y < rows
    return float(luma[sky & (depth < width)].mean() - luma[sky & (depth >= width) & (depth < 2 * width)].mean())
