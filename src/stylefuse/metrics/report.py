"""The evaluation report: ``metrics.json`` and a self-contained ``report.html`` with a grid of results,
a table of mean metrics per candidate, and two matplotlib plots (the content-vs-style trade-off and the
latency per image)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Sequence

TRADE_OFF = ("lpips_vgg16_caffe", "inception_gram")
"""x: content distance, y: style distance; lower-left is better."""


def _plots(runs: Sequence[dict], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    x_name, y_name = TRADE_OFF
    if all(x_name in run["summary"] and y_name in run["summary"] for run in runs):
        figure, axes = plt.subplots(figsize=(6, 4.5))
        for run in runs:
            axes.scatter([r[x_name] for r in run["rows"]], [r[y_name] for r in run["rows"]], alpha=0.35, s=14)
            axes.scatter([run["summary"][x_name]], [run["summary"][y_name]], marker="*", s=220,
                         edgecolors="black", label=run["candidate"])
        axes.set_xlabel(f"content distance ({x_name}, lower keeps more of the photo)")
        axes.set_ylabel(f"style distance ({y_name}, lower is closer to the painting)")
        axes.set_title("content vs style trade-off (stars: means)")
        axes.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(out / "tradeoff.png", dpi=100)
        plt.close(figure)
        files.append("tradeoff.png")
    figure, axes = plt.subplots(figsize=(6, 3.5))
    names = [run["candidate"] for run in runs]
    seconds = [run["summary"]["seconds"] for run in runs]
    axes.barh(names, seconds, color="#4a7ab5")
    axes.set_xscale("log")
    axes.set_xlabel("seconds per image (log scale)")
    axes.set_title("latency")
    figure.tight_layout()
    figure.savefig(out / "latency.png", dpi=100)
    plt.close(figure)
    files.append("latency.png")
    return files


def _table(runs: Sequence[dict]) -> str:
    columns = [key for key in runs[0]["summary"]]
    distribution = sorted({key for run in runs for key in run.get("distribution", {})})
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["candidate", "pairs", *columns, *distribution])
    body = []
    for run in runs:
        cells = [run["candidate"], str(run["pairs"])]
        cells += [f"{run['summary'].get(c, float('nan')):.4g}" for c in columns]
        cells += [f"{run.get('distribution', {}).get(c, float('nan')):.4g}" for c in distribution]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    directions = runs[0].get("directions", {})
    note = ", ".join(f"{k}: {v} is better" for k, v in directions.items())
    return (f"<table><tr>{head}</tr>{''.join(body)}</table>"
            f"<p class='note'>{html.escape(note)}; seconds and peak_rss_mib: lower is better; "
            "fid/kid/artfid (patch-based, our variant): lower is better.</p>")


def _grid(run: dict, base: Path, out: Path, limit: int = 8) -> str:
    rows = run["rows"]
    contents = list(dict.fromkeys(r["content"] for r in rows))[:limit]
    styles = list(dict.fromkeys(r["style"] for r in rows))[:limit]
    by_pair = {(r["content"], r["style"]): r for r in rows}
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(s)}</th>" for s in styles) + "</tr>"
    lines = []
    for content in contents:
        cells = []
        for style in styles:
            row = by_pair.get((content, style))
            if row is None:
                cells.append("<td></td>")
                continue
            source = Path(row["image"]) if Path(row["image"]).is_absolute() else base / row["image"]
            cells.append(f"<td><img src='{html.escape(_relative(source, out))}' width='160'></td>")
        lines.append(f"<tr><th>{html.escape(content)}</th>{''.join(cells)}</tr>")
    return f"<h3>{html.escape(run['candidate'])}</h3><table class='grid'>{head}{''.join(lines)}</table>"


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path.resolve(), start.resolve())


def write_report(runs: Sequence[dict], out: Path, run_folders: Sequence[Path] | None = None,
                 title: str = "stylefuse evaluation") -> Path:
    """Write ``metrics.json``, the plots and ``report.html`` into ``out``; return the HTML path.

    Args:
        runs: results of :func:`stylefuse.evaluate.evaluate`.
        run_folders: the folder of each run (its images are linked relative to ``out``); default ``out``.
    """
    if not runs:
        raise ValueError("nothing to report")
    out.mkdir(parents=True, exist_ok=True)
    folders = list(run_folders or [out] * len(runs))
    (out / "metrics.json").write_text(json.dumps({"runs": list(runs)}, indent=2))
    plots = _plots(runs, out)
    figures = "".join(f"<img src='{name}' alt='{name}'>" for name in plots)
    grids = "".join(_grid(run, folder, out) for run, folder in zip(runs, folders))
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:20px}} table{{border-collapse:collapse;margin:8px 0}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:12px}} .grid td{{padding:1px}} .note{{color:#555}}
</style></head><body><h1>{html.escape(title)}</h1><h2>Summary</h2>{_table(runs)}<h2>Plots</h2>{figures}
<h2>Results</h2>{grids}</body></html>"""
    path = out / "report.html"
    path.write_text(page)
    return path
