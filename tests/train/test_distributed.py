"""Data-parallel training (gloo on CPU): 2 processes give the weights of 1 process with the same global batch, only
rank 0 writes, and a run started on 2 processes resumes on 1."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from stylefuse.train.checkpoint import CHECKPOINT_FILE, load_checkpoint
from stylefuse.train.distributed import Engine
from stylefuse.train.loop import Trainer, TrainingTask, TrainOptions

dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

GLOBAL_BATCH = 4


class TinyGAN(TrainingTask):
    """A one-convolution generator pulled towards a target by an L1 term and a one-convolution critic."""

    method_name = "tiny-gan"

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.generators = nn.ModuleDict({"G": nn.Conv2d(3, 3, 3, padding=1)})
        self.discriminators = nn.ModuleDict({"D": nn.Conv2d(3, 1, 3)})

    def discriminator_loss(self, batch):
        photo, target = batch
        fake = self.generators["G"](photo).detach()
        total = nn.functional.softplus(-self.discriminators["D"](target)).mean() + \
            nn.functional.softplus(self.discriminators["D"](fake)).mean()
        return {"total": total}

    def generator_loss(self, batch):
        photo, target = batch
        fake = self.generators["G"](photo)
        adversarial = nn.functional.softplus(-self.discriminators["D"](fake)).mean()
        return {"total": (fake - target).abs().mean() + 0.1 * adversarial}

    def samples(self, batch, generator):
        return batch[0]


def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1000 + step)
    photo = torch.rand(GLOBAL_BATCH, 3, 8, 8, generator=generator)
    return photo, photo.flip(-1)


def train(out: Path, steps: int, resume: bool = False, accumulate: int = 1) -> None:
    options = TrainOptions(steps=steps, lr=1e-2, checkpoint_every=0, sample_every=0, progress=False,
                           accumulate=accumulate)
    Trainer(TinyGAN(), batches, options, out).fit(resume=resume)


def _rank(rank: int, world_size: int, port: int, out: Path, steps: int) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size))
    try:
        train(out if rank == 0 else out.with_name(f"{out.name}-rank{rank}"), steps)
    finally:
        dist.destroy_process_group()


def train_on_two(out: Path, steps: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_rank, args=(2, port, out, steps), nprocs=2)


def weights(out: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(out)
    return {f"{part}.{key}": value for part in ("generators", "discriminators", "ema")
            for key, value in state[part].items()}


def assert_close(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6, msg=key)


@pytest.mark.slow  # about 15 s: two spawned processes import stylefuse
def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    train(tmp_path / "one", steps=3)
    train_on_two(tmp_path / "two", steps=3)
    assert load_checkpoint(tmp_path / "two")["step"] == 3
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "one"))
    assert not (tmp_path / "two-rank1" / CHECKPOINT_FILE).exists()  # only rank 0 writes
    assert not (tmp_path / "two-rank1" / "metrics.jsonl").exists()


@pytest.mark.slow  # about 15 s: two spawned processes import stylefuse
def test_a_run_started_on_two_processes_resumes_on_one(tmp_path):
    train(tmp_path / "one", steps=4)
    train_on_two(tmp_path / "two", steps=2)
    train(tmp_path / "two", steps=4, resume=True)
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "one"))


def test_accumulating_gradients_matches_the_whole_batch(tmp_path):
    train(tmp_path / "whole", steps=3)
    train(tmp_path / "parts", steps=3, accumulate=2)
    assert_close(weights(tmp_path / "parts"), weights(tmp_path / "whole"))


def test_shard_splits_every_tensor_of_a_batch():
    engine = Engine(rank=1, world_size=2)
    photo, target = torch.arange(8.0).view(4, 2), torch.arange(4)
    got = engine.shard({"pair": (photo, target), "weight": torch.tensor(2.0), "name": "x"})
    assert got["pair"][0].equal(photo[2:]) and got["pair"][1].equal(target[2:])
    assert got["weight"].item() == 2.0 and got["name"] == "x"
    assert Engine().shard(photo) is photo
    with pytest.raises(Exception, match="equal parts"):
        Engine(rank=0, world_size=3).shard(photo)
