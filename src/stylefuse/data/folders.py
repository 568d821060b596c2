"""Image folders for training.

Every batch is a function of ``(seed, step)`` alone (a generator seeded per step picks images,
crops and flips), so a resumed run sees exactly the batches an uninterrupted one would.
Broken files are reported once and skipped; an empty folder is an error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import torch

from stylefuse.errors import StylefuseError
from stylefuse.image import ops
from stylefuse.image.io import list_image_files, read_image


class DatasetError(StylefuseError):
    """A training folder is missing, empty, or its pairs do not match."""


def link_folder(folder: str | Path, paths: list[Path] | tuple[Path, ...]) -> Path:
    """A folder of links to ``paths`` (training reads folders; nothing is copied), made if missing; links that
    exist already are kept. Returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(Path(path).resolve())
    return folder


def step_generator(seed: int, step: int) -> torch.Generator:
    """A CPU generator whose state depends only on (seed, step)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


class ImageFolder:
    """The decodable images of a folder, held in memory, each scaled so its short side is at most
    ``max_side`` (crops come from these).

    Args:
        folder: directory of images (not recursive), or a list of image files.
        max_side: downscale larger images so the short side is ``max_side`` (None keeps them).
        report: called with a one-line message for each skipped file.
    """

    def __init__(self, folder: str | Path | list[Path], max_side: int | None = None,
                 report: Callable[[str], None] | None = None) -> None:
        if isinstance(folder, (list, tuple)):
            files = [Path(path) for path in folder]
            missing = [str(path) for path in files if not path.is_file()]
            if missing:
                raise DatasetError(f"no such image file: {missing[0]}")
        else:
            folder = Path(folder)
            if not folder.is_dir():
                raise DatasetError(f"{folder} is not a folder of images")
            files = list_image_files(folder)
        self.paths: list[Path] = []
        self.images: list[torch.Tensor] = []
        for path in files:
            try:
                image = read_image(path).rgb
            except StylefuseError as exc:
                if report:
                    report(f"skipped {path.name}: {exc}")
                continue
            if max_side is not None and min(image.shape[-2:]) > max_side:
                scale = max_side / min(image.shape[-2:])
                image = ops.resize(image, (round(image.shape[1] * scale), round(image.shape[2] * scale)))
            self.paths.append(path)
            self.images.append(image)
        if not self.images:
            raise DatasetError(f"{folder} holds no readable images" if isinstance(folder, Path)
                               else "none of the given images could be read")

    def __len__(self) -> int:
        return len(self.images)


def random_crop_box(height: int, width: int, size: int, generator: torch.Generator) -> tuple[int, int]:
    """Top-left corner of a random ``size`` x ``size`` crop."""
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    return top, left


def crop_and_flip(images: list[torch.Tensor], size: int, generator: torch.Generator,
                  flip: bool = True) -> list[torch.Tensor]:
    """The same random crop (and horizontal flip) of several aligned images (3, H, W); images
    smaller than ``size`` are upscaled first."""
    height, width = images[0].shape[-2:]
    if min(height, width) < size:
        scale = size / min(height, width)
        height, width = max(size, round(height * scale)), max(size, round(width * scale))
        images = [ops.resize(image, (height, width)) for image in images]
    top, left = random_crop_box(height, width, size, generator)
    crops = [image[:, top:top + size, left:left + size] for image in images]
    if flip and bool(torch.rand((), generator=generator) < 0.5):
        crops = [crop.flip(-1) for crop in crops]
    return crops


class UnpairedCrops:
    """Batches of random crops from one or several folders, drawn independently (CycleGAN, DCGAN,
    style collections).

    ``crops(step)`` returns one (B, 3, size, size) tensor in [0, 1] per folder.
    """

    def __init__(self, folders: list[ImageFolder], size: int, batch_size: int = 1, seed: int = 0) -> None:
        self.folders, self.size, self.batch_size, self.seed = folders, size, batch_size, seed

    def __call__(self, step: int) -> list[torch.Tensor]:
        generator = step_generator(self.seed, step)
        batches = []
        for folder in self.folders:
            picks = torch.randint(0, len(folder), (self.batch_size,), generator=generator).tolist()
            batches.append(torch.stack([crop_and_flip([folder.images[i]], self.size, generator)[0] for i in picks]))
        return batches


class AugmentedCrops:
    """Batches of random crops of one folder at random scales, turned by a multiple of 90 degrees,
    flipped, and (half of them) with their hue rotated and saturation changed: many more distinct
    images from a few photos, for reconstruction training (inverters), where any natural-looking
    image is valid data and the colours of paintings must be reproduced too.

    ``crops(step)`` returns ``[photos]``, (B, 3, size, size) in [0, 1].

    Args:
        zoom_out: the largest crop window as a multiple of ``size`` (windows are resized to ``size``).
        hue_range: hue rotations are uniform in +-``hue_range`` radians.
        saturation_range: saturation factors are uniform in [1 - s, 1 + s].
    """

    def __init__(self, folder: ImageFolder, size: int, batch_size: int = 1, seed: int = 0, zoom_out: float = 2.0,
                 hue_range: float = math.pi, saturation_range: float = 0.4) -> None:
        self.folder, self.size, self.batch_size, self.seed = folder, size, batch_size, seed
        self.zoom_out, self.hue_range, self.saturation_range = zoom_out, hue_range, saturation_range

    def _crop(self, image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        largest = max(self.size, min(min(image.shape[-2:]), round(self.zoom_out * self.size)))
        window = self.size + int(torch.randint(0, largest - self.size + 1, (1,), generator=generator))
        crop = ops.resize(crop_and_flip([image], window, generator)[0], (self.size, self.size))
        return torch.rot90(crop, int(torch.randint(0, 4, (1,), generator=generator)), dims=(-2, -1))

    def __call__(self, step: int) -> list[torch.Tensor]:
        generator = step_generator(self.seed, step)
        picks = torch.randint(0, len(self.folder), (self.batch_size,), generator=generator).tolist()
        photos = torch.stack([self._crop(self.folder.images[i], generator) for i in picks])
        recolour = torch.rand(self.batch_size, generator=generator) < 0.5
        angle = (2 * torch.rand(self.batch_size, generator=generator) - 1) * self.hue_range * recolour
        saturation = 1 + (2 * torch.rand(self.batch_size, generator=generator) - 1) * self.saturation_range * recolour
        return [ops.rotate_hue(photos, angle, saturation)]


class PairedCrops:
    """Batches of aligned crops from two folders matched by file name (stem) (pix2pix).

    ``crops(step)`` returns (A, B), each (B, 3, size, size) in [0, 1].
    """

    def __init__(self, a: ImageFolder, b: ImageFolder, size: int, batch_size: int = 1, seed: int = 0) -> None:
        b_by_stem = {path.stem: image for path, image in zip(b.paths, b.images)}
        self.pairs = [(image, b_by_stem[path.stem]) for path, image in zip(a.paths, a.images) if path.stem in b_by_stem]
        if not self.pairs:
            raise DatasetError("no file name appears in both folders; pairs are matched by name without extension")
        for image_a, image_b in self.pairs:
            if image_a.shape != image_b.shape:
                raise DatasetError("paired images must have the same size")
        self.size, self.batch_size, self.seed = size, batch_size, seed

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        generator = step_generator(self.seed, step)
        picks = torch.randint(0, len(self.pairs), (self.batch_size,), generator=generator).tolist()
        crops = [crop_and_flip(list(self.pairs[i]), self.size, generator) for i in picks]
        return torch.stack([c[0] for c in crops]), torch.stack([c[1] for c in crops])
