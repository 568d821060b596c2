"""Fuzz the image decoders and ``stylefuse stylize`` with hypothesis; print JSON counts.

    python benchmarks/fuzz.py --examples 10000 --cli-examples 1000

Every input is a small valid image made on the fly (each format and colour mode, EXIF orientations, animations)
truncated, bit-flipped, overwritten, given a huge declared size, or left as it is (see ``tests/fuzzing.py``).
``read_image`` must return a valid picture or refuse with ImageReadError; ``stylize`` (built-in style, 16 px,
options at and past their limits) must exit 0 or 2 with one ``error:`` line and leave its input unchanged.
A crash is any other outcome; the first few are printed (and kept with ``--keep-crashes DIR``). Needs the test
extra (hypothesis). The short version runs in ``make test``.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package holds the input generators
from tests.fuzzing import check_cli, check_read, cli_options, fuzzed_files  # noqa: E402


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
            if len(crashes) < 5:
                crashes.append("".join(traceback.format_exception_only(type(exc), exc)).strip()[:500])
                if keep is not None:  # the input, to reproduce the crash
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"crash-{len(crashes)}.json").write_text(json.dumps(drawn, default=_bytes_hex))

    one()
    return {"examples": sum(counts.values()), **dict(counts), "crashed": counts["crashed"], "first_crashes": crashes}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="fuzzed files given to read_image")
    parser.add_argument("--cli-examples", type=int, default=1_000, help="fuzzed files and options given to stylize")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-crashes", type=Path, help="write the first crashing inputs to this folder")
    args = parser.parse_args()
    started = time.perf_counter()
    result = {"read_image": run(args.examples, args.seed, (fuzzed_files(),), _read, args.keep_crashes)}
    if args.cli_examples:
        output_is_input = st.sampled_from([False] * 9 + [True])
        result["stylize"] = run(args.cli_examples, args.seed, (fuzzed_files(), cli_options(), output_is_input), _cli,
                                args.keep_crashes)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2))
    sys.exit(1 if any(part["crashed"] for part in result.values() if isinstance(part, dict)) else 0)


if __name__ == "__main__":
    main()
