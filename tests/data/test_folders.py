"""Training data: image folders (broken files reported and skipped, short sides capped), crops that depend
only on (seed, step), aligned pairs, and augmented crops varied in scale, orientation and colour."""

from __future__ import annotations

import pytest
import torch

from stylefuse.data.folders import AugmentedCrops, ImageFolder
from stylefuse.image import ops
from stylefuse.image.io import write_image


def folder_of_gradients(tmp_path):
    """Two photos whose every pixel is distinct: a red-green ramp and a blue-red one."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 128), indexing="ij")
    write_image(tmp_path / "a.png", torch.stack([ys, xs, 0.5 * torch.ones_like(ys)]))
    write_image(tmp_path / "b.png", torch.stack([xs, 0.3 * torch.ones_like(ys), ys]))
    return ImageFolder(tmp_path)


def test_batches_depend_only_on_the_step(tmp_path) -> None:
    crops = AugmentedCrops(folder_of_gradients(tmp_path), 32, batch_size=4, seed=1)
    first, again, other = crops(3)[0], crops(3)[0], crops(4)[0]
    assert first.shape == (4, 3, 32, 32) and 0 <= first.min() and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_crops_vary_in_scale_orientation_and_colour(tmp_path) -> None:
    photos = folder_of_gradients(tmp_path)
    crops = AugmentedCrops(photos, 32, batch_size=1, seed=0, zoom_out=3.0)
    batch = torch.cat([crops(step)[0] for step in range(40)])
    spans = batch.amax(dim=(2, 3)) - batch.amin(dim=(2, 3))  # ramps: a wider window spans more values
    assert spans.max() > 2 * spans.min()
    luminance = ops.rgb_to_yiq(batch)[:, 0]
    row_change = (luminance[:, -1] - luminance[:, 0]).mean(1).abs()
    column_change = (luminance[:, :, -1] - luminance[:, :, 0]).mean(1).abs()
    assert (row_change > column_change).any() and (column_change > row_change).any()  # quarter turns
    chroma = ops.rgb_to_yiq(batch)[:, 1:].mean(dim=(2, 3))
    plain = ops.rgb_to_yiq(torch.stack([image for image in photos.images]))[:, 1:].mean(dim=(2, 3))
    assert (chroma[:, None] - plain[None]).norm(dim=2).min(dim=1).values.max() > 0.05  # hues moved


def test_inverter_training_uses_augmented_crops_unless_told_not_to(tmp_path) -> None:
    from stylefuse.methods.inverter import InverterRecipe, InverterTraining

    folder_of_gradients(tmp_path)
    plain = InverterTraining(InverterRecipe(level="relu1_1", size=32, batch_size=2, augment=False))
    augmented = InverterTraining(InverterRecipe(level="relu1_1", size=32, batch_size=2))
    assert not isinstance(plain.make_batches({"data": tmp_path}), AugmentedCrops)
    batches = augmented.make_batches({"data": tmp_path})
    assert isinstance(batches, AugmentedCrops) and batches(0)[0].shape == (2, 3, 32, 32)


def _ramp(height: int, width: int, shift: float = 0.0) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    return torch.stack([ys, xs, (ys + xs + shift) % 1])


def test_broken_files_are_reported_and_skipped_and_large_images_scaled(tmp_path) -> None:
    write_image(tmp_path / "big.png", _ramp(80, 120))
    write_image(tmp_path / "small.png", _ramp(20, 30))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    notes: list[str] = []
    folder = ImageFolder(tmp_path, max_side=40, report=notes.append)
    assert len(folder) == 2 and sorted(p.name for p in folder.paths) == ["big.png", "small.png"]
    shapes = {p.name: tuple(image.shape) for p, image in zip(folder.paths, folder.images)}
    assert shapes == {"big.png": (3, 40, 60), "small.png": (3, 20, 30)}  # only the short side is capped
    assert len(notes) == 1 and notes[0].startswith("skipped broken.png: ") and "\n" not in notes[0]


def test_folder_errors(tmp_path) -> None:
    from stylefuse.data.folders import DatasetError

    with pytest.raises(DatasetError, match="is not a folder of images"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "broken.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="holds no readable images"):
        ImageFolder(tmp_path)
    with pytest.raises(DatasetError, match="no such image file: .*gone.png"):
        ImageFolder([tmp_path / "gone.png"])
    with pytest.raises(DatasetError, match="none of the given images could be read"):
        ImageFolder([tmp_path / "broken.png"])


def test_unpaired_crops_depend_only_on_seed_and_step(tmp_path) -> None:
    from stylefuse.data.folders import UnpairedCrops

    write_image(tmp_path / "a" / "1.png", _ramp(40, 56))
    write_image(tmp_path / "b" / "1.png", _ramp(24, 24, 0.5))  # smaller than the crop: upscaled
    folders = [ImageFolder(tmp_path / "a"), ImageFolder(tmp_path / "b")]
    crops = UnpairedCrops(folders, 32, batch_size=3, seed=4)
    first = crops(5)
    assert [tuple(batch.shape) for batch in first] == [(3, 3, 32, 32)] * 2
    crops(6)  # drawing other steps in between changes nothing
    again = UnpairedCrops(folders, 32, batch_size=3, seed=4)(5)
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    other_seed = UnpairedCrops(folders, 32, batch_size=3, seed=5)(5)
    assert not torch.equal(first[0], other_seed[0])


def test_paired_crops_are_aligned_and_matched_by_name(tmp_path) -> None:
    from stylefuse.data.folders import DatasetError, PairedCrops

    for name in ("x", "y"):
        write_image(tmp_path / "a" / f"{name}.png", _ramp(40, 48))
        write_image(tmp_path / "b" / f"{name}.jpg" if name == "x" else tmp_path / "b" / "other.png",
                    1 - _ramp(40, 48))
    pairs = PairedCrops(ImageFolder(tmp_path / "a"), ImageFolder(tmp_path / "b"), 32, batch_size=4)
    assert len(pairs.pairs) == 1  # only x is in both folders (the extension does not matter)
    a, b = pairs(0)
    assert a.shape == b.shape == (4, 3, 32, 32)
    assert (b - (1 - a)).abs().mean() < 0.02  # the same crop and flip of both (b is a JPEG: not exact)
    write_image(tmp_path / "c" / "z.png", _ramp(40, 48))
    with pytest.raises(DatasetError, match="no file name appears in both folders"):
        PairedCrops(ImageFolder(tmp_path / "a"), ImageFolder(tmp_path / "c"), 32)
    write_image(tmp_path / "d" / "x.png", _ramp(40, 40))
    with pytest.raises(DatasetError, match="paired images must have the same size"):
        PairedCrops(ImageFolder(tmp_path / "a"), ImageFolder(tmp_path / "d"), 32)


def test_link_folder_links_each_path_once_and_keeps_existing_links(tmp_path) -> None:
    from stylefuse.data.folders import link_folder

    sources = []
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"x")
        sources.append(tmp_path / name)
    folder = link_folder(tmp_path / "links", sources)
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.png"]
    assert all((folder / s.name).resolve() == s.resolve() for s in sources)
    assert link_folder(folder, sources[:1]) == folder and len(list(folder.iterdir())) == 2
