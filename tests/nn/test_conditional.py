"""The conditional network: shapes with and without a mask, per-task adapters, the adapter's share of the
parameters, hole filling."""

from __future__ import annotations

import pytest
import torch

from stylefuse.hub import load_model, save_model
from stylefuse.nn.conditional import ConditionalNet, fill_holes, smooth_fill
from tests.helpers import check_network_round_trip

TINY = dict(tasks=["denoise", "sr2"], channels=8, wide_channels=8, blocks=[1, 1, 1], rank=2)
CASES = {"conditional_net": (TINY, (torch.rand(2, 3, 32, 40), torch.tensor([0, 1])))}


def _randomized(network: ConditionalNet) -> ConditionalNet:
    """The network with random adapters and output layer (a fresh one is the identity)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if name.startswith(("adapters", "tail")):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return network.eval()


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(name: str, tmp_path) -> None:
    check_network_round_trip(name, *CASES[name], tmp_path / name)


def test_round_trip_with_a_task_of_another_rank(tmp_path) -> None:
    config = {**TINY, "task_ranks": {"sr2": 6}}
    network = _randomized(ConditionalNet(**config))
    image, tasks = torch.rand(2, 3, 32, 40), torch.tensor([0, 1])
    save_model(network, tmp_path / "ranks", "conditional_net", config)
    loaded, document = load_model(tmp_path / "ranks")
    assert document["config"]["task_ranks"] == {"sr2": 6} and loaded.adapters["sr2"].down[0].shape == (6, 8)
    with torch.no_grad():
        expected = network(image, tasks)
        assert not torch.allclose(expected, image, atol=1e-2)  # the randomised adapters and tail do something
        torch.testing.assert_close(loaded(image, tasks), expected, atol=2e-2, rtol=1e-2)  # fp16 storage


@pytest.mark.parametrize("size", [(32, 40), (29, 37)])
def test_shapes_with_and_without_mask(size) -> None:
    network = _randomized(ConditionalNet(**TINY))
    image = torch.rand(3, 3, *size)
    mask = (torch.rand(3, 1, *size) < 0.3).float()
    with torch.no_grad():
        plain = network(image, torch.tensor([0, 1, 0]))
        masked = network(image, "sr2", mask, torch.tensor([25.0, 0.0, 50.0]))
    assert plain.shape == masked.shape == image.shape
    assert torch.isfinite(masked).all() and not torch.allclose(plain, masked)


def test_a_fresh_network_is_the_identity_and_tasks_differ_once_trained() -> None:
    image = torch.rand(2, 3, 32, 32)
    assert torch.equal(ConditionalNet(**TINY)(image, "denoise"), image)
    network = _randomized(ConditionalNet(**TINY))
    with torch.no_grad():
        assert not torch.allclose(network(image, "denoise"), network(image, "sr2"))
        mixed = network(image, torch.tensor([0, 1]))
        assert torch.allclose(mixed[1], network(image[1:], "sr2")[0], atol=1e-4, rtol=1e-4)


def test_adding_a_task_adds_only_its_adapter_and_starts_as_a_copy() -> None:
    network = _randomized(ConditionalNet(**TINY))
    before = sum(p.numel() for p in network.parameters())
    adapter = network.add_task("sr3", like="sr2")
    assert network.tasks == ["denoise", "sr2", "sr3"]
    assert sum(p.numel() for p in network.parameters()) - before == sum(p.numel() for p in adapter.parameters())
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(network(image, "sr3"), network(image, "sr2"))
    with pytest.raises(ValueError, match="exists already"):
        network.add_task("sr2")
    with pytest.raises(ValueError, match="unknown task"):
        network(image, "oil")


@pytest.mark.parametrize("rank", [0, 5])
def test_a_new_task_of_another_rank_starts_as_a_copy_and_mixes_with_the_others(rank: int) -> None:
    network = _randomized(ConditionalNet(**TINY))
    image = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        old_tasks = {task: network(image, task) for task in ("denoise", "sr2")}
    adapter = network.add_task("sr3", like="sr2", rank=rank)
    assert adapter.down[0].shape == (rank, 8) and network.task_ranks == {"sr3": rank}
    with torch.no_grad():
        for task, before in old_tasks.items():  # padding the tables to the largest rank changes no old task
            assert torch.allclose(network(image, task), before, atol=1e-6), task
        if rank > TINY["rank"]:  # the extra ranks start as zero updates: exactly the copied task
            assert torch.equal(network(image, "sr3"), network(image, "sr2"))
        for parameter in adapter.up:
            parameter.add_(0.1)
        mixed = network(image, torch.tensor([0, 2, 1]))
        for row, task in enumerate(["denoise", "sr3", "sr2"]):
            assert torch.allclose(mixed[row], network(image[row:row + 1], task)[0], atol=1e-5), task
    with pytest.raises(ValueError, match="task_ranks"):
        ConditionalNet(**TINY, task_ranks={"oil": 3})


def test_a_new_task_takes_the_rank_of_the_adapter_it_copies() -> None:
    network = _randomized(ConditionalNet(**TINY, task_ranks={"sr2": 6}))
    assert network.add_task("sr3", like="sr2").down[0].shape == (6, 8)  # not cut to the network's rank 2
    assert network.add_task("mean").down[0].shape == (6, 8)
    assert network.add_task("low", like="denoise").down[0].shape == (2, 8) and "low" not in network.task_ranks
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(network(image, "sr3"), network(image, "sr2"))


def test_the_default_adapter_is_under_five_percent_of_the_parameters() -> None:
    network = ConditionalNet(tasks=["denoise", "sr2", "sr4", "inpaint", "enhance"])
    total = sum(p.numel() for p in network.parameters())
    adapter = sum(p.numel() for p in network.adapters["denoise"].parameters())
    assert adapter / (total + adapter) <= 0.05
    assert total * 2 <= 2 * 1024**2  # fp16 weights within 2 MB


def test_fill_holes_interpolates_from_the_surroundings() -> None:
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    image = torch.stack([x, y, 0.5 * (x + y)])[None]
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 10:20, 12:22] = 1
    filled = fill_holes(image * (1 - mask), mask)
    assert torch.equal(filled * (1 - mask), image * (1 - mask))
    assert (filled - image).abs()[mask.expand_as(image) > 0].mean() < 0.08  # a smooth ramp is nearly recovered


def test_smooth_fill_recovers_a_smooth_surface_better_than_pull_push() -> None:
    y, x = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    image = torch.stack([x, y, x * y])[None]  # Δ²u = 0 for all three: the biharmonic solve's own answer
    mask = (torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    mask[..., 20:32, 8:40] = 1  # a large hole too
    holes = mask.expand_as(image) > 0
    filled = smooth_fill(image * (1 - mask), mask)
    assert torch.equal(filled * (1 - mask), image * (1 - mask))
    smooth_error = (filled - image).abs()[holes].mean()
    assert smooth_error < 0.01
    assert smooth_error < 0.5 * (fill_holes(image * (1 - mask), mask) - image).abs()[holes].mean()


def test_four_phases_make_the_network_nearly_shift_equivariant() -> None:
    network = _randomized(ConditionalNet(**TINY))
    image = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(2))
    gaps = {}
    with torch.no_grad():
        for phases in (1, 4):
            first = network(image[..., :-1, :-1], "denoise", phases=phases)
            moved = network(image[..., 1:, 1:], "denoise", phases=phases)  # the same picture, one pixel up-left
            gaps[phases] = (first[..., 1:, 1:] - moved[..., :-1, :-1])[..., 12:32, 12:32].abs().mean()
    # the quarter-size stage keeps a 4-pixel period, so the output still moves a little with the grid
    assert gaps[4] < 0.5 * gaps[1]
    with pytest.raises(ValueError, match="phases"):
        network(image, "denoise", phases=2)
