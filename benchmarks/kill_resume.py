"""Kill ``stylefuse train`` with SIGKILL at random moments, resume it, and check that nothing is lost; print JSON.

    python benchmarks/kill_resume.py --kills 20 --methods all

For each method (tiny data and the tiny recipes of ``tests/test_cli_train.py``, ``--checkpoint-every 1``), one
uninterrupted run gives the reference. Then one run is started ``--kills`` times, each time with ``--resume`` once
a checkpoint exists, and SIGKILLed: at a random moment of start-up, after a random number of steps, while a
checkpoint is being written (the poller waits for the checkpoint's temporary file), or while the model folder is
being exported. After every kill: ``checkpoint.pt`` loads, its step never goes back, at most one checkpoint
interval of steps is lost (the last sample grid written tells the step reached), and a folder with a
``config.json`` loads as a model. A last ``--resume`` finishes the run; it must leave none of the killed runs'
temporary files, and its checkpoint (weights, optimisers, EMA, RNG states, step) and model weights must equal the
reference's exactly. The short version runs in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tiny recipes live with the CLI tests
from tests.test_cli_train import TINY  # noqa: E402

MOMENTS = ("start-up", "between steps", "checkpoint write", "export")
POLL_SECONDS = 0.0005


def make_data(folder: Path) -> dict[str, Path]:
    """Three tiny random photos per domain: the folders every trainable method reads."""
    from stylefuse.image.io import write_image

    generator = torch.Generator().manual_seed(0)
    for name in ("a", "b"):
        for index in range(3):
            write_image(folder / name / f"{index}.png", torch.rand(3, 40, 36, generator=generator))
    return {"a": folder / "a", "b": folder / "b", "data": folder / "a", "style": folder / "b"}


def train_command(method: str, folders: dict[str, Path], out: Path, steps: int, every: int,
                  resume: bool) -> list[str]:
    """The ``stylefuse train`` command line of a tiny run (a sample grid per step marks the step reached)."""
    from stylefuse.registry import TRAINABLE

    data = [arg for name in TRAINABLE.get(method).data_folders for arg in (f"--{name}", str(folders[name]))]
    return [sys.executable, "-m", "stylefuse", "train", method, *data, "--size", "32", "--steps", str(steps),
            "--out", str(out), "-q", "--checkpoint-every", str(every), "--sample-every", "1", *TINY[method],
            *(["--resume"] if resume else [])]


def start(command: list[str]) -> subprocess.Popen:
    # one thread: the same arithmetic in every process, so that resumed runs can match the reference bit for bit
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def step_reached(out: Path) -> int:
    """The last step whose sample grid was written (samples are written just before the checkpoint)."""
    names = [entry.name for entry in os.scandir(out / "samples")] if (out / "samples").is_dir() else []
    steps = [int(name[5:11]) for name in names if name.startswith("step_") and name.endswith(".png")]
    return max(steps, default=0)


def temporaries(out: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Temporary files of atomic writes in ``out`` with one of ``suffixes``."""
    if not out.is_dir():
        return []
    return [entry.name for entry in os.scandir(out) if entry.name.startswith(".tmp-") and entry.name.endswith(suffixes)]


def kill_at(process: subprocess.Popen, out: Path, moment: str, target: int, rng: random.Random) -> str:
    """SIGKILL ``process`` at ``moment``; return what it hit ("finished" if the run ended first)."""
    deadline = time.monotonic() + 600

    def wait_until(condition) -> bool:
        while process.poll() is None and time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(POLL_SECONDS)
        return False

    if moment == "start-up":
        ready = _sleep_alive(process, rng.uniform(0.0, 2.0))
    elif moment == "export":
        ready = wait_until(lambda: temporaries(out, (".safetensors", ".json")) != [])
    else:
        ready = wait_until(lambda: step_reached(out) >= target)
        if ready and moment == "checkpoint write":
            ready = wait_until(lambda: temporaries(out, (".pt",)) != [])
        elif ready:
            time.sleep(rng.uniform(0.0, 0.02))
    if not ready or process.poll() is not None:
        return "finished"
    process.send_signal(signal.SIGKILL)
    process.wait()
    return moment


def _sleep_alive(process: subprocess.Popen, seconds: float) -> bool:
    time.sleep(seconds)
    return process.poll() is None


def check_after_kill(out: Path, every: int, last_step: int) -> dict[str, Any]:
    """Load what the killed run left; raise AssertionError if anything is damaged or too much was lost."""
    from stylefuse import hub
    from stylefuse.train.checkpoint import CHECKPOINT_FILE, load_checkpoint

    found: dict[str, Any] = {"checkpoint_step": 0, "lost": 0}
    if (out / CHECKPOINT_FILE).exists():
        step = int(load_checkpoint(out)["step"])
        assert step >= last_step, f"the checkpoint went back from step {last_step} to {step}"
        lost = step_reached(out) - step
        assert lost <= every, f"{lost} steps lost with a checkpoint every {every}"
        found.update(checkpoint_step=step, lost=max(lost, 0))
    if (out / hub.CONFIG_FILE).exists():
        hub.load_model(out)
        found["model_folder"] = True
    return found


def same_state(left: Any, right: Any, where: str = "") -> list[str]:
    """Paths at which two nested checkpoints differ (tensors compared exactly)."""
    if isinstance(left, torch.Tensor) and isinstance(right, torch.Tensor):
        return [] if left.dtype == right.dtype and torch.equal(left, right) else [where]
    if isinstance(left, dict) and isinstance(right, dict):
        if set(left) != set(right):
            return [f"{where} (keys)"]
        return [path for key in left for path in same_state(left[key], right[key], f"{where}/{key}")]
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if len(left) != len(right):
            return [f"{where} (length)"]
        return [path for i, (a, b) in enumerate(zip(left, right)) for path in same_state(a, b, f"{where}/{i}")]
    return [] if left == right else [where]


def final_differences(out: Path, reference: Path) -> list[str]:
    """Where the resumed run's checkpoint and model weights differ from the uninterrupted run's."""
    from safetensors.torch import load_file

    from stylefuse.hub import WEIGHTS_FILE
    from stylefuse.train.checkpoint import load_checkpoint

    ours, theirs = load_checkpoint(out), load_checkpoint(reference)
    for state in (ours, theirs):
        state.pop("options", None)  # it names the output folder
    return (same_state(ours, theirs, "checkpoint")
            + same_state(load_file(out / WEIGHTS_FILE), load_file(reference / WEIGHTS_FILE), "model"))


def run_method(method: str, kills: int, steps: int, every: int, folder: Path, rng: random.Random) -> dict[str, Any]:
    """The reference run, ``kills`` killed runs, the final resume and the checks, for one method."""
    folders = make_data(folder / "data")
    reference, out = folder / method / "reference", folder / method / "killed"
    process = start(train_command(method, folders, reference, steps, every, resume=False))
    _finish(process, "the reference run")
    counts: dict[str, Any] = {"kills": 0, "finished_before_kill": 0, "hit": {m: 0 for m in MOMENTS},
                              "temporaries_left_by_kills": 0, "max_steps_lost": 0, "resumes": 0}
    last_step = 0
    for index in range(kills):
        moment = MOMENTS[-1] if index == kills - 1 and kills >= 4 else rng.choice(MOMENTS[:3])
        resume = (out / "checkpoint.pt").exists()
        target = min(steps - 1, last_step + rng.randint(1, max(1, 2 * steps // (kills + 1))))
        process = start(train_command(method, folders, out, steps, every, resume))
        hit = kill_at(process, out, moment, target, rng)
        counts["resumes"] += resume
        if hit == "finished":
            _finish(process, f"run {index + 1} (it ended before the kill)")
            counts["finished_before_kill"] += 1
            continue
        counts["kills"] += 1
        counts["hit"][hit] += 1
        counts["temporaries_left_by_kills"] += len(temporaries(out, ("",)))  # removed by the next run
        found = check_after_kill(out, every, last_step)
        last_step = found["checkpoint_step"]
        counts["max_steps_lost"] = max(counts["max_steps_lost"], found["lost"])
    resume = (out / "checkpoint.pt").exists()
    _finish(start(train_command(method, folders, out, steps, every, resume)), "the final resume")
    counts["resumes"] += resume
    left = temporaries(out, ("",)) + temporaries(out / "samples", ("",))
    assert not left, f"the resumed run left half-written files of the killed ones: {left}"
    differences = final_differences(out, reference)
    counts["exact_resume"] = not differences
    counts["differences"] = differences[:5]
    return counts


def _finish(process: subprocess.Popen, what: str) -> None:
    _, err = process.communicate(timeout=900)
    if process.returncode != 0:
        raise RuntimeError(f"{what} failed with exit {process.returncode}: {err.decode()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="kills per method")
    parser.add_argument("--methods", default="all", help="comma-separated trainable methods, or all")
    parser.add_argument("--steps", type=int, default=40, help="training steps of each run")
    parser.add_argument("--checkpoint-every", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    args = parser.parse_args()
    methods = sorted(TINY) if args.methods == "all" else args.methods.split(",")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="stylefuse-kill-") as folder:
        for method in methods:
            try:
                results[method] = run_method(method, args.kills, args.steps, args.checkpoint_every, Path(folder), rng)
            except (AssertionError, RuntimeError) as exc:
                results[method] = {"failed": str(exc)}
    failed = [m for m, r in results.items() if "failed" in r or not r.get("exact_resume")]
    print(json.dumps({"methods": results, "failed": failed, "seconds": round(time.perf_counter() - started, 1)},
                     indent=2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
