"""Fuzz the image decoders, ``stylefuse stylize`` and ``stylefuse train`` with hypothesis; print JSON counts.

    python benchmarks/fuzz.py --examples 10000 --cli-examples 1000 --train-examples 300

Every input is a small valid image made on the fly (each format and colour mode, EXIF orientations, animations)
truncated, bit-flipped, overwritten, given a huge declared size, or left as it is (see ``tests/fuzzing.py``).
``read_image`` must return a valid picture or refuse with ImageReadError; ``stylize`` (built-in style, 16 px,
options at and past their limits) must exit 0 or 2 with one ``error:`` line and leave its input unchanged;
so must ``train`` (every trainable method, tiny or bad data folders, ``--steps 1``, options at and past their
limits; see ``tests/fuzzing_train.py``). Declared-size bombs of every format are first read alone, and the peak
memory of the process must not grow by more than a few MB (refused from the header, never decoded).
A crash is any other outcome; the first few are printed (and kept with ``--keep-crashes DIR``).

Memory is capped, not only measured: the fuzzing runs in a child process whose address space is limited with
``setrlimit(RLIMIT_AS, --memory-cap-gb)``, so an input that needed more would fail its allocation (MemoryError,
PyTorch's "can't allocate memory") and count as a crash and under ``out_of_memory``; a child killed by a signal
is reported as failed. Needs the test extra (hypothesis). The short versions run in ``make test``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the input generators
from tests.fuzzing import _HUGE, check_cli, check_read, cli_options, fuzzed_files  # noqa: E402


def run(examples: int, base_seed: int, strategies: tuple, check, keep: Path | None = None) -> dict:
    """Feed ``examples`` inputs drawn from ``strategies`` to ``check(folder, *drawn) -> outcome``; count outcomes.
    The first crashing inputs are written to ``keep`` (bytes as hex) when given."""
    counts: collections.Counter = collections.Counter()
    crashes: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="stylefuse-fuzz-"))

    @seed(base_seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(st.tuples(*strategies))
    def one(drawn):
        try:
            counts[check(folder, *drawn)] += 1
        except BaseException as exc:  # noqa: B036 - a SystemExit or KeyboardInterrupt from main is a crash too
            counts["crashed"] += 1
            if isinstance(exc, MemoryError) or "can't allocate memory" in str(exc):
                counts["out_of_memory"] += 1
            if len(crashes) < 5:
                crashes.append("".join(traceback.format_exception_only(type(exc), exc)).strip()[:500])
                if keep is not None:  # the input, to reproduce the crash
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"crash-{len(crashes)}.json").write_text(json.dumps(drawn, default=_bytes_hex))

    one()
    examples = sum(n for key, n in counts.items() if key != "out_of_memory")
    return {"examples": examples, **dict(counts), "crashed": counts["crashed"],
            "out_of_memory": counts["out_of_memory"], "first_crashes": crashes}


def _bytes_hex(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


def _read(folder: Path, item: tuple[str, bytes]) -> str:
    suffix, data = item
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return check_read(path)


def _cli(folder: Path, item: tuple[str, bytes], options: list[str], output_is_input: bool) -> str:
    return check_cli(folder, *item, options, output_is_input)[0]


def _train(folder: Path, case: tuple[str, str, list[str]]) -> str:
    from tests.fuzzing_train import check_train

    return check_train(folder / "train", *case)[0]


def peak_kb() -> int:
    """The process's peak resident memory so far (VmHWM), in kB."""
    return int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])


def check_bombs(max_pixels: int = 4_000_000) -> dict:
    """Read declared-size bombs of every format (up to 2^31-1 pixels a side) and count them; the peak memory
    may not grow (a decoded bomb would take gigabytes)."""
    sides = [(8192, 8192), (65535, 65535), (100_000, 100_000), (2**31 - 1, 2**31 - 1), (1, 2**31 - 1)]
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="stylefuse-bombs-") as folder:
        before = peak_kb()
        for suffix, make in sorted(_HUGE.items()):
            for width, height in sides:
                if suffix in (".gif", ".jpg"):  # 16-bit fields
                    width, height = min(width, 65535), min(height, 65535)
                if width * height <= max_pixels:
                    continue
                path = Path(folder) / f"bomb{suffix}"
                path.write_bytes(make(width, height))
                counts[check_read(path, max_pixels)] += 1
        growth = peak_kb() - before
    return {"bombs": sum(counts.values()), **dict(counts), "peak_growth_mb": round(growth / 1024, 1),
            "crashed": counts["processed"] + int(growth > 20_000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="fuzzed files given to read_image")
    parser.add_argument("--cli-examples", type=int, default=1_000, help="fuzzed files and options given to stylize")
    parser.add_argument("--train-examples", type=int, default=0, help="fuzzed `stylefuse train` runs (about 1 s "
                        "each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-cap-gb", type=float, default=6.0, help="address-space limit of the fuzzing "
                        "process (RLIMIT_AS; 0: none)")
    parser.add_argument("--keep-crashes", type=Path, help="write the first crashing inputs to this folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        sys.exit(supervise(args.memory_cap_gb))
    started = time.perf_counter()
    result = {"memory_cap_gb": args.memory_cap_gb, "bombs": check_bombs()}
    result["read_image"] = run(args.examples, args.seed, (fuzzed_files(),), _read, args.keep_crashes)
    if args.cli_examples:
        output_is_input = st.sampled_from([False] * 9 + [True])
        result["stylize"] = run(args.cli_examples, args.seed, (fuzzed_files(), cli_options(), output_is_input), _cli,
                                args.keep_crashes)
    if args.train_examples:
        from tests.fuzzing_train import train_cases

        result["train"] = run(args.train_examples, args.seed, (train_cases(),), _train, args.keep_crashes)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["peak_address_space_mb"] = round(int(Path("/proc/self/status").read_text().split("VmPeak:")[1].split()[0])
                                            / 1024)
    print(json.dumps(result, indent=2))
    sys.exit(1 if any(part["crashed"] for part in result.values() if isinstance(part, dict)) else 0)


def supervise(cap_gb: float) -> int:
    """Run this script again as a child (``--child``) under the address-space cap; returns its exit status, or
    reports a child killed by a signal as a failure."""
    cap = int(cap_gb * 2**30)

    def limit() -> None:
        if cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    child = subprocess.run([sys.executable, *sys.argv, "--child"], preexec_fn=limit, stdout=subprocess.PIPE,
                           text=True, env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    if child.returncode >= 0:
        sys.stdout.write(child.stdout)
        return child.returncode
    print(json.dumps({"memory_cap_gb": cap_gb, "killed_by_signal": -child.returncode, "crashed": 1,
                      "partial_output": child.stdout[-2000:]}, indent=2))
    return 1


if __name__ == "__main__":
    main()
