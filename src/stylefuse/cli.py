"""The ``stylefuse`` command line.

Errors a user can cause print one line (``error: ...``) and exit with status 2; ``--debug`` shows the
traceback instead. Ctrl-C during a stylization writes the best result so far, then exits with 130.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any, List, Optional

import typer

from stylefuse.errors import ImageReadError, OptionError, StylefuseError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="stylefuse: image style transfer that works offline, on a laptop CPU.")
_state = {"debug": False}


@app.callback()
def _global_options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    _state["debug"] = debug


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def stylize(
    content: Path = typer.Argument(..., help="Content image, or a folder: every image in it is stylized."),
    style: List[str] = typer.Option(..., "--style", "-s", help="Style image, optionally PATH:WEIGHT; repeat to blend."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Output file (a folder when CONTENT is a folder)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Method (see `stylefuse list`)."),
    size: Optional[int] = typer.Option(None, help="Long side of the result in pixels."),
    steps: Optional[int] = typer.Option(None, help="Optimisation steps at full size."),
    coarse_steps: Optional[int] = typer.Option(None, help="Steps at each coarser pyramid level."),
    levels: Optional[int] = typer.Option(None, help="Pyramid levels (1 = single scale)."),
    content_weight: Optional[float] = typer.Option(None, "--content-weight", "--alpha", help="Content weight α."),
    style_weight: Optional[float] = typer.Option(None, "--style-weight", "--beta", help="Style weight β."),
    tv_weight: Optional[float] = typer.Option(None, help="Total-variation weight."),
    optimizer: Optional[str] = typer.Option(None, help="lbfgs or adam."),
    init: Optional[str] = typer.Option(None, help="Start from content, noise or style."),
    style_scale: Optional[float] = typer.Option(None, help="Style image size relative to the result."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    preserve_color: bool = typer.Option(False, "--preserve-color", help="Keep the content's colours."),
    max_pixels: int = typer.Option(64_000_000, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    threads: Optional[int] = typer.Option(None, help="CPU threads (default: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Stylize CONTENT (a file or a folder) with one or more styles."""
    from stylefuse import api
    from stylefuse.image.io import ensure_not_input, read_image, write_image

    api.set_threads(threads)
    specs = [api.parse_style_argument(text) for text in style]
    specs = api.normalize_styles(specs)
    options: dict[str, Any] = {key: value for key, value in dict(
        size=size, steps=steps, coarse_steps=coarse_steps, levels=levels, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, optimizer=optimizer, init=init,
        style_scale=style_scale, seed=seed).items() if value is not None}
    options["progress"] = not quiet
    name = method or api.choose_method(specs)
    styles = [read_image(spec.image, max_pixels) for spec in specs]
    weights = [spec.weight for spec in specs]
    stylizer = api.create_method(name, **options)

    if content.is_dir():
        jobs = _folder_jobs(content, output)
    else:
        if not content.exists():
            raise ImageReadError(f"cannot read {content}: no such file or folder")
        jobs = [(content, output or Path(f"{content.stem}-stylized.png"))]
    inputs = [spec.image for spec in specs] + [source for source, _ in jobs]
    written, skipped = 0, []
    for source, target in jobs:
        started = time.perf_counter()
        try:
            ensure_not_input(target, [Path(p) for p in inputs], overwrite_input)
            picture = read_image(source, max_pixels)
            result = api.run_method(stylizer, picture, styles, weights, preserve_color)
            write_image(target, result.rgb, result.alpha)
        except StylefuseError as exc:
            if len(jobs) == 1:
                raise
            _err(f"skipped {source.name}: {exc}")
            skipped.append(source)
            continue
        written += 1
        height, width = result.rgb.shape[-2:]
        note = " (interrupted: best result so far)" if stylizer.interrupted else ""
        typer.echo(f"wrote {target} ({width}x{height}, {time.perf_counter() - started:.1f} s){note}")
        if stylizer.interrupted:
            raise typer.Exit(130)
    if len(jobs) > 1:
        typer.echo(f"{written} written, {len(skipped)} skipped")
    if skipped:
        raise typer.Exit(2)


def _folder_jobs(folder: Path, output: Optional[Path]) -> list[tuple[Path, Path]]:
    from stylefuse.image.io import WRITE_FORMATS, list_image_files

    out_dir = output or folder.with_name(folder.name + "-stylized")
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir} is a file; with a folder of images, -o must be a folder")
    files = list_image_files(folder)
    if not files:
        raise ImageReadError(f"{folder} holds no files to stylize")
    jobs = []
    for source in files:
        suffix = source.suffix.lower() if source.suffix.lower() in WRITE_FORMATS else ".png"
        jobs.append((source, out_dir / (source.stem + suffix)))
    return jobs


@app.command("list")
def list_command() -> None:
    """List the stylization methods and built-in models."""
    from stylefuse import api

    typer.echo("methods:")
    for name, summary in api.method_summaries():
        typer.echo(f"  {name:12s} {summary}")
    typer.echo("built-in models:")
    typer.echo("  (none shipped yet)")


@app.command()
def info() -> None:
    """Show versions, threads, device and the status of the pretrained weights."""
    import torch
    import torchvision

    import stylefuse
    from stylefuse.encoders.vgg import ENCODER_ID, weights_status

    device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
    rows = [("stylefuse", stylefuse.__version__), ("python", platform.python_version()),
            ("torch", torch.__version__), ("torchvision", torchvision.__version__),
            ("threads", str(torch.get_num_threads())), ("device", device),
            ("encoder", ENCODER_ID), ("vgg16 weights", weights_status())]
    for key, value in rows:
        typer.echo(f"{key:14s} {value}")


def main() -> None:
    """Entry point of the ``stylefuse`` console script."""
    try:
        app()
    except StylefuseError as exc:
        if _state["debug"]:
            raise
        _err(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
