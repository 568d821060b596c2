"""Data-parallel training (gloo on CPU): 2 processes give the weights of 1 process with the same global batch, only
rank 0 writes, a run started on 2 processes resumes on 1, and a rank that dies or hangs brings the run down with one
line and an intact checkpoint to resume from (under torchrun too)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from stylefuse.image.io import write_image
from stylefuse.train.checkpoint import CHECKPOINT_FILE, load_checkpoint
from stylefuse.train.distributed import TIMEOUT_ENV, Engine, RankLostError, backend_reason, collective_timeout
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


def train(out: Path, steps: int, resume: bool = False, accumulate: int = 1, checkpoint_every: int = 0,
          batches=batches) -> None:
    options = TrainOptions(steps=steps, lr=1e-2, checkpoint_every=checkpoint_every, sample_every=0, progress=False,
                           accumulate=accumulate)
    Trainer(TinyGAN(), batches, options, out).fit(resume=resume)


def _rank(rank: int, world_size: int, port: int, out: Path, steps: int, stall_at: int | None) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size), **({TIMEOUT_ENV: str(STALL_TIMEOUT)} if stall_at else {}))
    folder = out if rank == 0 else out.with_name(f"{out.name}-rank{rank}")
    try:
        if stall_at is None:
            train(folder, steps)
            dist.destroy_process_group()
            return
        train(folder, steps, checkpoint_every=2, batches=lambda step: stalling_batches(step, rank, stall_at, out))
    except RankLostError as exc:  # what the CLI prints, and when
        report = {"error": str(exc), "at": time.time()}
        out.with_name(f"{out.name}-error{rank}.json").write_text(json.dumps(report))


STALL_TIMEOUT = 4.0  # joining the group waits as long: room for one rank starting slower than the other


def stalling_batches(step: int, rank: int, stall_at: int, out: Path):
    """Rank 1 stops answering before step ``stall_at`` (as a hung data read would) until rank 0 has given up."""
    if rank == 1 and step == stall_at:
        out.with_name(f"{out.name}-stalled.json").write_text(json.dumps({"at": time.time()}))
        deadline = time.monotonic() + 60
        while not out.with_name(f"{out.name}-error0.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return batches(step)


def train_on_two(out: Path, steps: int, stall_at: int | None = None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_rank, args=(2, port, out, steps, stall_at), nprocs=2)


def weights(out: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(out)
    return {f"{part}.{key}": value for part in ("generators", "discriminators", "ema")
            for key, value in state[part].items()}


def assert_close(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6, msg=key)


def test_two_processes_match_one_with_the_same_global_batch_and_resume_on_one(tmp_path):
    # one test, one pair of spawned processes: starting them (each imports torch) is most of its time
    train(tmp_path / "one", steps=2)
    train_on_two(tmp_path / "two", steps=2)
    assert load_checkpoint(tmp_path / "two")["step"] == 2
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "one"))
    assert not (tmp_path / "two-rank1" / CHECKPOINT_FILE).exists()  # only rank 0 writes
    assert not (tmp_path / "two-rank1" / "metrics.jsonl").exists()

    train(tmp_path / "two", steps=4, resume=True)  # a run started on 2 processes resumes on 1
    train(tmp_path / "four", steps=4)
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "four"))


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


def test_a_hung_rank_stops_the_run_within_the_timeout_and_it_resumes(tmp_path):
    train(tmp_path / "one", steps=4)
    train_on_two(tmp_path / "two", steps=4, stall_at=3)
    stalled = json.loads((tmp_path / "two-stalled.json").read_text())["at"]
    report = json.loads((tmp_path / "two-error0.json").read_text())
    assert STALL_TIMEOUT - 0.5 < report["at"] - stalled < STALL_TIMEOUT + 20  # the timeout, not 30 min
    assert "rank 0 of 2" in report["error"] and f"did not answer within {STALL_TIMEOUT:g} s" in report["error"]
    assert "resume from the checkpoint of step 2" in report["error"] and "\n" not in report["error"]
    assert "rank 1 of 2" in json.loads((tmp_path / "two-error1.json").read_text())["error"]  # it stopped too
    assert load_checkpoint(tmp_path / "two")["step"] == 2  # the step each rank was in is not saved
    train(tmp_path / "two", steps=4, resume=True)
    assert_close(weights(tmp_path / "two"), weights(tmp_path / "one"))


def torchrun_train(data: Path, out: Path, steps: int, processes: int) -> list[str]:
    """``stylefuse train dcgan`` on tiny data, under torchrun with ``processes`` ranks (or plain with 1)."""
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
                "--max-restarts", "0"] if processes > 1 else []
    return [sys.executable, *launcher, "-m", "stylefuse", "train", "dcgan", "--data", str(data), "--size", "32",
            "--set", "base=4", "--batch-size", "4", "--steps", str(steps), "--checkpoint-every", "5",
            "--sample-every", "0", "-q", "--out", str(out)]


def worker_with_rank(launcher: int, rank: int) -> int | None:
    """The pid of the torchrun worker (a child of ``launcher``) whose environment has ``RANK=rank``."""
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (ValueError, OSError, IndexError):
            continue
        if parent == launcher and f"RANK={rank}".encode() in environment:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds torchrun's workers in /proc (Linux)")
def test_a_killed_rank_brings_a_torchrun_run_down_and_it_resumes(tmp_path):
    generator = torch.Generator().manual_seed(0)
    for index in range(3):
        write_image(tmp_path / "a" / f"{index}.png", torch.rand(3, 40, 36, generator=generator))
    out, env = tmp_path / "run", {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(torchrun_train(tmp_path / "a", out, 10**6, 2), env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not (out / CHECKPOINT_FILE).exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = worker_with_rank(run.pid, 1)
        assert victim is not None and run.poll() is None, run.communicate()
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        _, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode != 0 and time.monotonic() - killed < 60
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "rank 0 of 2" in lines[0] and "--resume" in lines[0], err  # from the survivor
    step = load_checkpoint(out)["step"]  # intact
    assert step >= 5 and step % 5 == 0 and not (out / "config.json").exists()
    done = subprocess.run(torchrun_train(tmp_path / "a", out, step + 5, 1) + ["--resume"], env=env, text=True,
                          capture_output=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(out)["step"] == step + 5 and (out / "config.json").exists()


def test_the_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert collective_timeout() == 600
    monkeypatch.setenv(TIMEOUT_ENV, "2.5")
    assert collective_timeout() == 2.5
    for bad in ("0", "-1", "ten", "inf", "nan"):
        monkeypatch.setenv(TIMEOUT_ENV, bad)
        with pytest.raises(Exception, match=TIMEOUT_ENV):
            collective_timeout()


def test_backend_reasons_are_short():
    gloo = RuntimeError("[/__w/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:545] Read error [127.0.0.1]:7812: "
                        "Connection reset by peer. This is typically caused by a remote worker hanging. GLHF!")
    assert backend_reason(gloo) == "Read error [127.0.0.1]:7812: Connection reset by peer"
    assert backend_reason(RuntimeError("")) == "RuntimeError"
