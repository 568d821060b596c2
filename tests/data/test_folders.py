"""Augmented crops for reconstruction training: deterministic per step, the right shape and range, and
actually varied in scale, orientation and colour."""

from __future__ import annotations

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
