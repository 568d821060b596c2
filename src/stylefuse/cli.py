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

from stylefuse.errors import ImageReadError, OptionError, StylefuseError, one_line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="stylefuse: image style transfer that works offline, on a laptop CPU.")
_state = {"debug": False}


def _show_version(value: bool) -> None:
    if value:
        from stylefuse import __version__

        typer.echo(f"stylefuse {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
                    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                                 help="Show the version and exit.")) -> None:
    _state["debug"] = debug


def _err(message: str) -> None:
    typer.echo(message, err=True)


STYLIZE_OPTIONS = ("size", "steps", "coarse_steps", "levels", "content_weight", "style_weight", "tv_weight",
                   "optimizer", "parameterization", "init", "style_scale", "seed", "tile")
"""Method options that ``stylize`` also takes as flags (``--steps 50`` is ``--set steps=50``)."""
OWN_FLAGS = {"strength": "--strength", "model": "--model"}
"""Method options that only their own flag sets: ``--set`` refuses them."""


def _device(name: str) -> str:
    from stylefuse.devices import resolve_device

    return resolve_device(name)


def _device_option() -> Any:
    """``--device`` for a command that runs a network (resolved by :func:`stylefuse.devices.resolve_device`)."""
    return typer.Option("cpu", "--device", help="cpu, cuda (or cuda:N), mps, or auto (cuda if available, else mps, "
                        "else cpu). Results are float32 everywhere.")


@app.command()
def stylize(
    content: Path = typer.Argument(..., help="Content image, a folder (every image in it is stylized), or a video "
                                   "(.mp4, .mov, .mkv, .webm, .avi)."),
    style: List[str] = typer.Option([], "--style", "-s", help="Style image (PATH[:WEIGHT]) or built-in style name "
                                    "(NAME[:WEIGHT], see `stylefuse list`); repeat or separate with commas to blend."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Output file (a folder when CONTENT is a folder)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Method (see `stylefuse list`); default: "
                                         "fast (built-in style names and paintings); --method gatys optimises."),
    model: Optional[Path] = typer.Option(None, "--model", help="A trained model folder (any kind `stylefuse train` "
                                         "or `personalize` writes); its own style is the default."),
    strength: Optional[float] = typer.Option(None, "--strength", min=0.0, max=1.0,
                                             help="Style strength 0..1, for every method."),
    size: Optional[int] = typer.Option(None, min=1, help="Long side of the result in pixels."),
    steps: Optional[int] = typer.Option(None, min=1, help="gatys: optimisation steps at full size."),
    coarse_steps: Optional[int] = typer.Option(None, min=0, help="gatys: steps at each coarser pyramid level."),
    levels: Optional[int] = typer.Option(None, min=1, help="gatys: coarse-to-fine levels (1 = single scale)."),
    content_weight: Optional[float] = typer.Option(None, "--content-weight", min=0.0,
                                                   help="gatys: content weight α."),
    style_weight: Optional[float] = typer.Option(None, "--style-weight", "--beta", min=0.0,
                                                 help="gatys: style weight β."),
    tv_weight: Optional[float] = typer.Option(None, min=0.0, help="gatys: total-variation weight."),
    optimizer: Optional[str] = typer.Option(None, help="gatys: lbfgs or adam."),
    parameterization: Optional[str] = typer.Option(None, help="gatys: laplacian (optimise the bands of a Laplacian "
                                                   "pyramid, default) or pixels."),
    init: Optional[str] = typer.Option(None, help="gatys: start from content, noise, style or adain (AdaIN result)."),
    style_scale: Optional[float] = typer.Option(None, help="gatys: style image size relative to the result (> 0)."),
    seed: Optional[int] = typer.Option(None, help="gatys: random seed."),
    tile: Optional[int] = typer.Option(None, help="adain/wct and generators: larger images go through blended "
                                       "tiles of this size."),
    set_: List[str] = typer.Option([], "--set", help="Any method option KEY=VALUE (see the method's docstring), "
                                   "e.g. --set style_size=384."),
    preserve_color: bool = typer.Option(False, "--preserve-color", help="Keep the content's colours."),
    mask: List[Path] = typer.Option([], "--mask", help="One mask per --style (white = that style), or one fewer "
                                    "(the last style fills the rest); same size as the content. Any method."),
    regions: Optional[str] = typer.Option(None, "--regions", help="One --style (or model folder) per region: auto:K "
                                          "(K regions by colour, darkest first) or a label image (one style per "
                                          "grey level, in increasing order)."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads (default: all cores)."),
    temporal: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="video: weight 0..1 of the previous "
                                             "frame, warped along the motion, where the flow is reliable (0 = frame "
                                             "by frame; default 0.5)."),
    temporal_mode: str = typer.Option("flow", help="video: flow (optical-flow guided), smooth (no motion) or none."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    device: str = _device_option(),
    task: Optional[str] = typer.Option(None, "--task", help="conditional models: the task or style domain to run "
                                       "(e.g. sketch, denoise)."),
) -> None:
    """Stylize CONTENT (a file, a folder or a video) with one or more styles, or with a trained --model."""
    flags = dict(size=size, steps=steps, coarse_steps=coarse_steps, levels=levels, content_weight=content_weight,
                 style_weight=style_weight, tv_weight=tv_weight, optimizer=optimizer,
                 parameterization=parameterization, init=init, style_scale=style_scale, seed=seed, tile=tile)
    options: dict[str, Any] = {key: value for key, value in flags.items() if value is not None}
    if task is not None:
        options["task"] = task
    from stylefuse import api

    api.set_threads(threads)
    if mask:
        missing = [str(path) for path in mask if not path.is_file()]
        if missing:
            raise ImageReadError(f"cannot read mask {missing[0]}: no such file")
        options["masks"] = list(mask)
    specs, name = _styles_and_method(style, method, model)
    options.update(_assignments(set_, name))
    job = api.prepare(specs, name, model, strength, preserve_color, max_pixels,
                      wiring={"progress": not quiet, "device": _device(device)}, regions=regions, **options)
    protected = [Path(spec.image) for spec in specs if isinstance(spec.image, str) and Path(spec.image).exists()]
    if _is_video(content):
        _stylize_video(job, content, output, temporal, temporal_mode, quiet, max_pixels, protected, overwrite_input)
        return

    process = _picture_process(max_pixels, lambda picture: (job.run(picture), job.stylizer.interrupted))
    _exit_on(_inputs().run_over_inputs(content, output, protected, overwrite_input, process))


def _inputs():
    from stylefuse.frontends import inputs

    return inputs


def _exit_on(code: int) -> None:
    if code:
        raise typer.Exit(code)


def _styles_and_method(style: List[str], method: Optional[str], model: Optional[Path]) -> tuple[list[Any], str]:
    """The style specs of ``--style`` texts and the method that will run them."""
    from stylefuse import api

    texts = [item for text in style for item in api.split_style_list(text)]
    specs = [api.parse_style_argument(text) for text in texts]
    return specs, api.method_for(api.normalize_styles(specs) if specs else [], method, model)


def _assignments(set_: List[str], method: str) -> dict[str, Any]:
    """``--set KEY=VALUE`` texts, typed and checked against the method's options."""
    from stylefuse.methods._base import parse_assignment
    from stylefuse.registry import METHODS

    for text in set_:  # api.prepare takes these by name, beside the method's options
        key = text.partition("=")[0].strip().replace("-", "_")
        if key in OWN_FLAGS:
            raise OptionError(f"--set {key}=...: give the {key} with {OWN_FLAGS[key]}")
    return dict(parse_assignment(text, METHODS.get(method), method) for text in set_)


def _is_video(content: Path) -> bool:
    from stylefuse.frontends.video import is_video

    return content.is_file() and is_video(content)


def _stylize_video(job, content: Path, output: Optional[Path], temporal: Optional[float], mode: str, quiet: bool,
                   max_pixels: int, protected: list[Path], overwrite_input: bool) -> None:
    """Run a prepared job over a video file; one summary line; Ctrl-C keeps a playable file and exits 130."""
    from stylefuse.frontends.video import run_job_on_video

    target, summary = run_job_on_video(job, content, output, temporal, mode, not quiet, max_pixels, protected,
                                       overwrite_input)
    width, height = summary.size
    note = " (interrupted: the frames done so far)" if summary.interrupted else ""
    typer.echo(f"wrote {target} ({summary.frames} frames, {width}x{height}, {summary.fps:g} fps, "
               f"{summary.seconds:.1f} s){note}")
    if summary.interrupted:
        raise typer.Exit(130)


def _picture_process(max_pixels: int, run):
    """``process(source, target) -> ((width, height), interrupted)`` for
    :func:`stylefuse.frontends.inputs.run_over_inputs` of
    ``run(picture) -> (picture, interrupted)``: read, run, write."""

    def process(source: Path, target: Path):
        from stylefuse.image.io import read_image, write_image

        result, interrupted = run(read_image(source, max_pixels))
        write_image(target, result.rgb, result.alpha)
        return result.size, interrupted

    return process


@app.command()
def train(
    method: str = typer.Argument(..., help="A training method of `stylefuse list` (fast, inverter, cyclegan, "
                                 "pix2pix, adversarial_style, dcgan, personalize)."),
    more_models: List[str] = typer.Argument(None, help="More members after --models (gate)."),
    models: List[str] = typer.Option([], "--models", help="gate: the frozen members, model folders or builtin:NAME: "
                                     "--models A B [C ...]."),
    out: Path = typer.Option(..., "--out", help="Model folder: weights, config, checkpoint, samples, logs."),
    a: Optional[Path] = typer.Option(None, "--a", help="Domain A folder (cyclegan, pix2pix)."),
    b: Optional[Path] = typer.Option(None, "--b", help="Domain B folder; pix2pix pairs A/B by file name."),
    data: Optional[Path] = typer.Option(None, "--data", help="Photo folder (fast, inverter, adversarial_style) "
                                        "or images (dcgan)."),
    style: List[Path] = typer.Option([], "--style", help="Style images, repeatable (fast), or a folder of artworks "
                                     "(adversarial_style)."),
    size: Optional[int] = typer.Option(None, help="Training crop size in pixels (each method states what it takes)."),
    level: Optional[str] = typer.Option(None, help="inverter: the VGG16 level to invert (relu1_1 .. relu5_1)."),
    steps: int = typer.Option(1000, min=1, help="Training steps."),
    batch_size: Optional[int] = typer.Option(None, help="Images per step (>= 1); under torchrun, of all processes."),
    accumulate: int = typer.Option(1, min=1, help="Gradient accumulation: run each step's batch in this many parts "
                                   "(same result, less memory)."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate, > 0 (default: the method's own)."),
    gan_loss: Optional[str] = typer.Option(None, help="bce, lsgan or hinge."),
    diff_augment: Optional[str] = typer.Option(None, help="DiffAugment policy, e.g. color,translation,cutout."),
    r1: Optional[float] = typer.Option(None, min=0.0, help="R1 penalty weight."),
    spectral_norm: Optional[bool] = typer.Option(None, "--spectral-norm/--no-spectral-norm"),
    set_: List[str] = typer.Option([], "--set", help="Method option KEY=VALUE, e.g. --set lambda_cycle=5."),
    checkpoint_every: int = typer.Option(200, min=0, help="Steps between checkpoints (0 = only at the end)."),
    sample_every: int = typer.Option(200, min=0, help="Steps between sample grids (0 = none)."),
    validate_every: int = typer.Option(0, min=0, help="Early stopping: steps between validations (0 = off)."),
    patience: int = typer.Option(5, min=0, help="Early stopping: validations without improvement before stopping."),
    seed: int = typer.Option(0, min=0, max=2**64 - 1, help="Random seed."),
    max_minutes: Optional[float] = typer.Option(None, min=0.0, help="Stop (and save) after this much wall time."),
    device: str = _device_option(),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt (same recipe)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over in an OUT that already holds a run."),
    change_recipe: bool = typer.Option(False, "--change-recipe", help="With --resume: continue with other options "
                                       "(staged training: larger --size, another --lr or --set weight)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="conditional: comma-separated tasks, e.g. "
                                        "denoise,sr2,sr4,inpaint,enhance,sketch."),
) -> None:
    """Train a method; the result is a model folder for `stylize --model` (or `generate`)."""
    import torch

    from stylefuse.methods._trainable import build_recipe, fit_and_export
    from stylefuse.registry import TRAINABLE
    from stylefuse.train.limits import check_network_size, check_recipe_counts, check_recipe_pixels
    from stylefuse.train.loop import TrainOptions

    cls = TRAINABLE.get(method)
    folders = {"a": a, "b": b, "data": data, "style": style or None,
               "models": list(models) + list(more_models or []) or None}
    missing = [f"--{name}" for name in cls.data_folders if folders[name] is None]
    if missing:
        needed = ", ".join("--" + name for name in cls.data_folders)
        raise OptionError(f"{method} trains on {needed}; missing {', '.join(missing)}")
    if folders["models"] and "models" not in cls.data_folders:
        raise OptionError(f"{method} takes no --models (or extra arguments): {' '.join(folders['models'])}")
    common = dict(size=size, batch_size=batch_size, gan_loss=gan_loss, diff_augment=diff_augment, r1=r1,
                  spectral_norm=spectral_norm, level=level,
                  tasks=None if tasks is None else [name.strip() for name in tasks.split(",") if name.strip()])
    recipe = build_recipe(cls.recipe_class, {k: v for k, v in common.items() if v is not None}, set_, method)
    options = TrainOptions(steps=steps, lr=cls.default_lr if lr is None else lr, betas=cls.default_betas,
                           checkpoint_every=checkpoint_every, sample_every=sample_every,
                           validate_every=validate_every, patience=patience if validate_every else 0,
                           seed=seed, device=_device(device), progress=not quiet, overwrite=overwrite,
                           change_recipe=change_recipe,
                           max_seconds=max_minutes * 60 if max_minutes else None, accumulate=accumulate)
    check_recipe_pixels(recipe)
    check_recipe_counts(recipe)
    check_network_size(lambda: cls(recipe))
    torch.manual_seed(seed)
    task = cls(recipe)
    batches = task.make_batches({k: v for k, v in folders.items() if v is not None}, seed, report=_err)
    validate = task.validator(batches) if validate_every else None
    summary = fit_and_export(task, batches, options, out, validate=validate, resume=resume)
    _report_training(summary, out)


def _report_training(summary: dict[str, Any], out: Path, hint: str = "") -> None:
    """One line on how a training run ended (from rank 0 alone in a distributed run); Ctrl-C exits with 130."""
    if summary.get("main_process", True):
        typer.echo(f"{summary['state']} at step {summary['steps']} ({summary['seconds']:.0f} s, "
                   f"{summary.get('skipped_steps', 0)} skipped); model folder {out}{hint}")
    if summary["state"] == "interrupted":
        raise typer.Exit(130)


@app.command()
def personalize(
    more_images: List[Path] = typer.Argument(None, help="More images of the new style (after --images)."),
    images: List[Path] = typer.Option([], "--images", help="Images of the new style (1 to 10)."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    base: str = typer.Option("builtin", help="builtin (the shipped multi-style model) or a model folder."),
    name: str = typer.Option("my-style", help="Name of the new style."),
    data: Optional[Path] = typer.Option(None, help="Content photos (default: the photos shipped with stylefuse)."),
    freeze: Optional[str] = typer.Option(None, help="What to train: norm-only (default), last-layers, decoder or "
                                         "all; GAN bases: last-layers, decoder (default) or all."),
    steps: Optional[int] = typer.Option(None, min=1, help="Training steps (default 50 with lbfgs, 300 with adam)."),
    size: Optional[int] = typer.Option(None, help="Training crop size (default 256; GAN bases 128)."),
    optimizer: Optional[str] = typer.Option(None, help="lbfgs (the default for norm-only: one fixed set of crops) "
                                            "or adam (the default otherwise, and the only one for GAN bases)."),
    batch_size: Optional[int] = typer.Option(None, min=1, help="Photos per step (default 4; lbfgs: 4 fixed crops, "
                                             "2 of them for the first 8 steps; 2 for norm-only with adam)."),
    lr: Optional[float] = typer.Option(None, help="Learning rate, > 0 (default: lbfgs 1; adam 1e-1 for norm-only, "
                                       "1e-3 for other strategies, 1e-4 for GAN bases)."),
    validate_every: Optional[int] = typer.Option(None, min=0, help="Steps between validations on held-out photos "
                                                 "(default: 6 per run, GAN bases every 50; 0 = off)."),
    patience: int = typer.Option(4, min=0, help="Validations without improvement before stopping early."),
    max_minutes: Optional[float] = typer.Option(None, min=0.0, help="Stop (and save) after this much wall time."),
    seed: int = typer.Option(0, help="Random seed."),
    style_weight: Optional[float] = typer.Option(None, min=0.0, help="Weight of the style term (multi-style "
                                                 "base; default 5): larger learns the style more strongly."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over in an OUT that already holds a run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    device: str = _device_option(),
) -> None:
    """Learn a new style from a few images by training few parameters of a pretrained model: the
    built-in multi-style network (a new conditional-norm style) or a GAN model folder (FreezeD)."""
    from stylefuse.registry import TRAINABLE

    style_images = list(images) + list(more_images or [])
    if not style_images:
        raise OptionError("give the new style's images with --images IMG [IMG ...]")
    if optimizer not in (None, "adam", "lbfgs"):
        raise OptionError(f"unknown --optimizer {optimizer!r}; choose adam or lbfgs")
    common = dict(lr=lr, patience=patience, max_minutes=max_minutes, seed=seed, progress=not quiet, report=typer.echo,
                  overwrite=overwrite, device=_device(device))
    given = dict(steps=steps, batch_size=batch_size, validate_every=validate_every)
    common.update({key: value for key, value in given.items() if value is not None})  # else each base's own
    summary = TRAINABLE.get("personalize").from_images(style_images, out, base=base, freeze=freeze,
                                                       optimizer=optimizer, size=size, name=name, data=data,
                                                       style_weight=style_weight, **common)
    _report_training(summary, out, f"; try: stylefuse stylize photo.jpg --model {out}")


@app.command()
def translate(
    content: Path = typer.Argument(..., help="Image or folder to translate."),
    model: Path = typer.Option(..., "--model", help="Model folder from `stylefuse train`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (a folder for a folder)."),
    tile: Optional[int] = typer.Option(None, help="Images larger than this go through overlapping tiles."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    device: str = _device_option(),
) -> None:
    """Run a trained model folder on an image or a folder: the same as `stylize CONTENT --model DIR`."""
    from stylefuse import api

    job = api.prepare(None, None, model, max_pixels=max_pixels, wiring={"device": _device(device)},
                      **({} if tile is None else {"tile": tile}))
    process = _picture_process(max_pixels, lambda picture: (job.run(picture), False))
    _exit_on(_inputs().run_over_inputs(content, output, [], overwrite_input, process))


@app.command()
def generate(
    model: Path = typer.Option(..., "--model", help="A dcgan model folder."),
    count: int = typer.Option(64, "-n", min=1, help="How many images."),
    output: Path = typer.Option(Path("generated.png"), "--output", "-o", help="Grid image to write."),
    seed: int = typer.Option(0, help="Noise seed."),
    device: str = _device_option(),
) -> None:
    """Generate a grid of images from noise with a trained DCGAN."""
    import math

    from torchvision.utils import make_grid

    from stylefuse import hub
    from stylefuse.image.io import write_image

    sampler = hub.load(model, device=_device(device))
    if not hasattr(sampler, "generate"):
        raise OptionError(f"{model} holds a {hub.method_of(model)} model, which transforms images: use "
                          f"`stylefuse stylize IMAGE --model {model}`")
    images = sampler.generate(count, seed)
    write_image(output, make_grid(images, nrow=math.ceil(math.sqrt(count)), padding=2))
    typer.echo(f"wrote {output} ({count} images)")


@app.command("list")
def list_command() -> None:
    """List the stylization methods, the training methods and the built-in styles."""
    from stylefuse.builtin import builtin_style_names
    from stylefuse.registry import METHODS, TRAINABLE

    typer.echo("methods (stylefuse stylize --method NAME, or a --model folder they wrote):")
    for name in METHODS.names():
        typer.echo(f"  {name:18s} {METHODS.summary(name)}")
    typer.echo("training (stylefuse train NAME):")
    for name in TRAINABLE.names():
        typer.echo(f"  {name:18s} {TRAINABLE.summary(name)}")
    names = builtin_style_names()
    typer.echo("built-in styles (stylefuse stylize photo.jpg --style NAME):")
    typer.echo("  " + (", ".join(names) if names else "(none shipped)"))


@app.command()
def sheet(
    content: Path = typer.Argument(..., help="Photo to render in every style."),
    output: Path = typer.Option(Path("sheet.jpg"), "--output", "-o", help="Contact sheet image to write."),
    model: Optional[Path] = typer.Option(None, "--model", help="A multi-style model folder (default: built-in)."),
    size: int = typer.Option(384, min=16, help="Long side of each rendered image."),
    columns: Optional[int] = typer.Option(None, min=1, help="Images per row."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    device: str = _device_option(),
) -> None:
    """Render a photo in every style of a multi-style model on one contact sheet."""
    from stylefuse import hub
    from stylefuse.builtin import STYLES_FOLDER, builtin_style_names
    from stylefuse.image import ops
    from stylefuse.image.io import as_picture, ensure_not_input, read_image, write_image
    from stylefuse.image.sheet import contact_sheet
    from stylefuse.methods._base import STYLE_NAMES

    device = _device(device)
    if model is None and not builtin_style_names():
        raise OptionError("this installation ships no built-in styles; give a multi-style --model")
    ensure_not_input(output, [content], False)
    picture = read_image(content, max_pixels)
    rgb = ops.resize_long_side(picture.rgb, size).clamp(0, 1)
    stylizer = hub.load(model or STYLES_FOLDER, device=device)
    if stylizer.style_input != STYLE_NAMES:
        raise OptionError(f"{model} is not a multi-style model folder; a sheet shows the styles of one")
    names = stylizer.names
    cells = [("original", rgb)] + [(name, stylizer.stylize(rgb, [name])) for name in names]
    image = contact_sheet(cells, columns=columns, cell_size=size)
    write_image(output, as_picture(image).rgb)
    typer.echo(f"wrote {output} ({len(names)} styles)")


@app.command("eval")
def eval_command(
    method: str = typer.Option(..., "--method", "-m", help="A method of `stylefuse list` (fast: the named styles "
                               "of --model, each on the painting it was trained from)."),
    content: Path = typer.Option(..., "--content", help="Folder of photos."),
    style: Path = typer.Option(..., "--style", help="Folder of paintings."),
    out: Path = typer.Option(..., "--out", help="Report folder (results are cached there, by recipe)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Multi-style model folder for `fast` (default: "
                                         "built-in)."),
    size: int = typer.Option(512, min=16, help="Long side of the photos."),
    steps: Optional[int] = typer.Option(None, min=1, help="Optimisation steps (gatys)."),
    strength: Optional[float] = typer.Option(None, "--strength", min=0.0, max=1.0,
                                             help="Style strength 0..1 (adain, wct)."),
    set_: List[str] = typer.Option([], "--set", help="Any method option KEY=VALUE."),
    metric: List[str] = typer.Option([], "--metric", help="Metrics to compute (default: all registered)."),
    no_distribution: bool = typer.Option(False, "--no-distribution", help="Skip patch FID / KID / ArtFID."),
    device: str = _device_option(),
) -> None:
    """Stylize every photo x painting pair, measure the results and write metrics.json + report.html."""
    from stylefuse.evaluate import candidate_for, evaluate
    from stylefuse.metrics.report import write_report

    options = {key: value for key, value in dict(steps=steps, strength=strength).items() if value is not None}
    options.update(_assignments(set_, method))
    candidate = candidate_for(method, model, _device(device), **options)
    run = evaluate(candidate, content, style, out, size=size, metric_names=metric or None,
                   distribution=not no_distribution, report=_err)
    path = write_report([run], out)
    summary = ", ".join(f"{k} {v:.4g}" for k, v in run["summary"].items())
    typer.echo(f"{run['pairs']} pairs: {summary}")
    typer.echo(f"wrote {path}")


@app.command()
def fuse(
    more: List[str] = typer.Argument(None, help="More model folders (after --models), or weights (after --weights)."),
    models: List[str] = typer.Option([], "--models", help="Model folders to fuse: --models A B [C ...]."),
    out: Path = typer.Option(..., "--out", help="The fused model folder to write."),
    mode: str = typer.Option("interpolate", help="interpolate (average the parameters of related models of one "
                             "network), layer-swap (coarse layers from the first, fine from the second) or ensemble "
                             "(blend the outputs of any models)."),
    weights: List[str] = typer.Option([], "--weights", help="One weight per model: --weights 0.7 0.3 or 0.7,0.3 "
                                      "(default equal)."),
    groups: Optional[str] = typer.Option(None, help="layer-swap: the first model's share of the coarse and fine "
                                         "layers, COARSE,FINE in [0, 1] (default 1,0)."),
    combine: Optional[str] = typer.Option(None, help="ensemble: mean (weighted mean of the outputs, default) or "
                                          "pyramid (coarse bands from the first model, fine from the second)."),
    fine_bands: Optional[int] = typer.Option(None, min=1, help="ensemble pyramid: finest bands from the second "
                                             "model (default 2)."),
    force: bool = typer.Option(False, "--force", help="Mix the parameters of models with no recorded shared "
                               "ancestor."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model folder already at --out."),
) -> None:
    """Fuse model folders into one model folder (for `stylize --model` and `eval`)."""
    from stylefuse.fusion.models import fuse_models, parse_numbers, split_models_and_weights

    folders, numbers = split_models_and_weights(list(models) + list(more or []), weights)
    ensemble = {key: value for key, value in dict(combine=combine, fine_bands=fine_bands).items() if value is not None}
    shares = None if groups is None else parse_numbers(groups, "--groups")
    fuse_models(folders, out, mode, numbers, shares, force, overwrite, **ensemble)
    typer.echo(f"wrote {out} ({mode} of {len(folders)} models); try: stylefuse stylize photo.jpg --model {out}")


@app.command("fuse-images")
def fuse_images(
    images: List[Path] = typer.Argument(..., help="Photos of one scene: overlapping views, exposure brackets or a "
                                        "focus stack."),
    mode: str = typer.Option(..., "--mode", help="panorama (stitch overlapping views), exposure (Mertens fusion of "
                             "brackets) or focus (focus stacking)."),
    output: Path = typer.Option(..., "--output", "-o", help="The fused (and stylized) image to write."),
    style: List[str] = typer.Option([], "--style", "-s", help="Then stylize the fused picture with these styles (as "
                                    "in `stylize`)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Stylization method (as in `stylize`)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Then run this model folder on the fused picture."),
    strength: Optional[float] = typer.Option(None, "--strength", min=0.0, max=1.0, help="Style strength 0..1."),
    set_: List[str] = typer.Option([], "--set", help="Stylization method option KEY=VALUE."),
    stitch: Optional[str] = typer.Option(None, "--stitch-mode", help="panorama: panorama (SIFT + homographies, a "
                                         "camera turning up to ~120 degrees or a flat scene; default), scans "
                                         "(affine) or spherical (OpenCV's stitcher, wider sweeps, 30-40% overlap)."),
    confidence: Optional[float] = typer.Option(None, min=0.0, help="panorama: how sure a link between two images "
                                               "must be (default 1; lower it when an image is left out)."),
    no_align: bool = typer.Option(False, "--no-align", help="exposure, focus: the shots are already aligned."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    device: str = _device_option(),
) -> None:
    """Fuse several photos of one scene into one picture, then optionally stylize it."""
    from stylefuse.fusion.images import fuse_and_stylize
    from stylefuse.image.io import ensure_not_input, write_image

    given = dict(stitch_mode=stitch, confidence=confidence, align=False if no_align else None)
    stylized = bool(style) or model is not None
    specs, name = _styles_and_method(style, method, model) if stylized else ([], None)
    ensure_not_input(output, list(images), overwrite_input)
    started = time.perf_counter()
    result = fuse_and_stylize(images, mode, specs or None, name, model, strength, max_pixels,
                              wiring={"progress": not quiet, "device": _device(device)},
                              method_options=_assignments(set_, name) if name else {},
                              **{key: value for key, value in given.items() if value is not None})
    write_image(output, result.rgb, result.alpha)
    width, height = result.size
    typer.echo(f"wrote {output} ({width}x{height}, {mode} of {len(images)} images, "
               f"{time.perf_counter() - started:.1f} s)")


@app.command()
def export(
    model: Path = typer.Option(..., "--model", help="A trained model folder: fast, a GAN generator (cyclegan, "
                               "pix2pix, adversarial_style) or an inverter (exported with AdaIN)."),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write (.onnx or .pt)."),
    fmt: str = typer.Option("onnx", "--format", help="onnx or torchscript."),
    int8: bool = typer.Option(False, "--int8", help="Quantise the weights to int8 (ONNX only)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Load the folder with this method."),
    part: Optional[str] = typer.Option(None, "--part", help="A fast model's part: stylizer (the default), tables "
                                       "(style input: a painting's tables) or predictor (painting -> tables)."),
) -> None:
    """Export a model folder's network to ONNX or TorchScript, with dynamic height and width."""
    from stylefuse.frontends.export import export_model

    path = export_model(model, output, fmt, int8, method, part)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind (0.0.0.0 exposes the app to the network)."),
    port: int = typer.Option(7860, min=1, max=65535, help="Port to listen on."),
    model: List[Path] = typer.Option([], "--model", help="A trained model folder (or a .onnx file of `stylefuse "
                                     "export`) to offer; repeatable."),
    max_upload_mb: float = typer.Option(20.0, min=0.001, help="Largest upload in megabytes."),
    max_pixels: int = typer.Option(16_000_000, min=1, help="Refuse photos and paintings with more pixels."),
    concurrency: int = typer.Option(1, min=1, help="Requests stylized at once; the others queue."),
    queue_size: int = typer.Option(16, min=1, help="Requests that may wait; beyond, the app answers busy."),
    gatys_steps: int = typer.Option(100, min=1, help="Most Gatys steps a request may ask for."),
    gatys_size: int = typer.Option(384, min=16, help="Long side of Gatys results."),
    device: str = _device_option(),
) -> None:
    """Run the web app (Gradio; pip install 'stylefuse[web]') on this machine."""
    from stylefuse.frontends.web import ServeLimits, WebStylist
    from stylefuse.frontends.web import serve as serve_app

    limits = ServeLimits(int(max_upload_mb * 1e6), max_pixels, concurrency, queue_size, gatys_steps, gatys_size)
    serve_app(WebStylist(limits, list(model), _device(device)), host, port)


@app.command()
def batch(
    input_spec: str = typer.Argument(..., metavar="INPUT", help="A folder, a glob (quote it; ** recurses), a text "
                                     "file listing image paths, one a line, or a URI prefix (s3://, gs://, file://; "
                                     "needs pyarrow: pip install 'stylefuse[ray]')."),
    output: str = typer.Option(..., "--output", "-o", help="Output folder or URI prefix; OUT/_manifest.tsv lists "
                               "the inputs that could not be read."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run on Ray Data (pip install 'stylefuse[ray]'): a "
                                      "cluster address (auto, ray://HOST:10001) or `local` to start one here."),
    workers: int = typer.Option(1, min=1, help="Ray actors, each loading the model once (more than 1 without "
                                "--ray starts a local Ray)."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads: of this process, or of each Ray actor "
                                          "(default 1 there)."),
    style: List[str] = typer.Option([], "--style", "-s", help="Style image (PATH[:WEIGHT]) or built-in style name "
                                    "(NAME[:WEIGHT]); repeat or separate with commas to blend."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Method (see `stylefuse list`)."),
    model: Optional[Path] = typer.Option(None, "--model", help="A trained model folder."),
    set_: List[str] = typer.Option([], "--set", help="Any method option KEY=VALUE."),
    strength: Optional[float] = typer.Option(None, "--strength", min=0.0, max=1.0, help="Style strength 0..1."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    device: str = _device_option(),
) -> None:
    """Stylize many images into a folder, resumably (done outputs are skipped), locally or on Ray."""
    from stylefuse import api
    from stylefuse.frontends.batch import JobRecipe, location, manifest_location, run_batch, run_local

    _, name = _styles_and_method(style, method, model)
    local = ray is None and workers == 1
    recipe = JobRecipe(tuple(style), method, None if model is None else str(model), strength,
                       tuple(_assignments(set_, name).items()), max_pixels, _device(device) if local else device)
    if local:
        api.set_threads(threads)
        runner = run_local
    else:
        from stylefuse.frontends.batch_ray import ray_runner

        runner = ray_runner(workers, threads or 1, None if ray in (None, "local") else ray)
    out = location(output)
    summary = run_batch(input_spec, out, recipe, runner, show_progress=not quiet)
    manifest = f"; {len(summary.failed)} failed, listed in {manifest_location(out)}" if summary.failed else ""
    typer.echo(f"{summary.written} written, {summary.done_before} already done{manifest} "
               f"({summary.seconds:.1f} s, {summary.images_per_second:.2f} images/s)")


@app.command()
def restore(
    image: Path = typer.Argument(..., help="The image to restore."),
    task: str = typer.Option(..., "--task", help="denoise, sr2, sr4, inpaint or enhance (or another task of "
                             "--model)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file."),
    mask: Optional[Path] = typer.Option(None, "--mask", help="inpaint: an image of the same size, white = missing."),
    level: Optional[float] = typer.Option(None, "--level", help="denoise: the noise σ in 8-bit units (default: "
                                          "estimated)."),
    model: Optional[Path] = typer.Option(None, "--model", help="A conditional model folder (default: the shipped "
                                         "restoration model)."),
    max_pixels: int = typer.Option(64_000_000, min=1, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads (default: all cores)."),
    phases: Optional[int] = typer.Option(None, "--phases", help="1 (fast) or 4 (the network averaged over four "
                                         "one-pixel shifts, 4x slower); default: 4 for denoise, else 1."),
) -> None:
    """Denoise, enlarge (sr2/sr4 of a bicubic-enlarged image), inpaint or brighten IMAGE with one conditional
    model; any size (overlapping tiles)."""
    from stylefuse import api
    from stylefuse.image.io import as_picture, ensure_not_input, write_image
    from stylefuse.restoration import restore as run_restore

    api.set_threads(threads)
    ensure_not_input(output, [image, *([mask] if mask else [])], overwrite_input)
    result = as_picture(run_restore(image, task, model=model, mask=mask, level=level, max_pixels=max_pixels,
                                         phases=phases))
    write_image(output, result.rgb, result.alpha)
    typer.echo(f"wrote {output}")


@app.command()
def adapt(
    base: Path = typer.Option(..., "--base", help="A conditional model folder (`stylefuse train conditional`)."),
    task: str = typer.Option(..., "--task", help="Name of the new task."),
    a: Path = typer.Option(..., "--a", help="Input images of the new task."),
    b: Path = typer.Option(..., "--b", help="Their targets, matched to --a by file name."),
    out: Path = typer.Option(..., "--out", help="Model folder to write (every old task and the new one)."),
    like: Optional[str] = typer.Option(None, "--like", help="Start from this task's adapter (default: the mean)."),
    rank: Optional[int] = typer.Option(None, "--rank", min=0, help="Rank of the new adapter (default: that of the "
                                       "adapter it starts from; larger for a task far from the base's)."),
    size: int = typer.Option(64, help="Crop size in pixels (a multiple of 4)."),
    batch_size: int = typer.Option(4, min=1, help="Pairs per step."),
    steps: int = typer.Option(300, min=1, help="Training steps."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate, > 0 (default 3e-3)."),
    checkpoint_every: int = typer.Option(100, min=0, help="Steps between checkpoints (0 = only at the end)."),
    max_minutes: Optional[float] = typer.Option(None, min=0.0, help="Stop (and save) after this much wall time."),
    seed: int = typer.Option(0, help="Random seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt (same options)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over in an OUT that already holds a run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Learn a new task from a few pairs by training only a new adapter of a conditional model (trunk frozen)."""
    import torch

    from stylefuse.methods._trainable import fit_and_export
    from stylefuse.methods.conditional_adapt import Adapt, AdaptRecipe, trained_fraction
    from stylefuse.train.loop import TrainOptions

    recipe = AdaptRecipe(base=str(base), task=task, like=like, rank=rank, size=size, batch_size=batch_size)
    options = TrainOptions(steps=steps, lr=Adapt.default_lr if lr is None else lr, betas=Adapt.default_betas,
                           checkpoint_every=checkpoint_every, sample_every=checkpoint_every, seed=seed,
                           progress=not quiet, overwrite=overwrite,
                           max_seconds=max_minutes * 60 if max_minutes else None)
    torch.manual_seed(seed)
    method = Adapt(recipe)
    trained, total = trained_fraction(method.generators["G"])
    typer.echo(f"training {trained} of {total} parameters ({100 * trained / total:.2f} %): the adapter of {task}")
    batches = method.make_batches({"a": a, "b": b}, seed, report=_err)
    summary = fit_and_export(method, batches, options, out, resume=resume)
    _report_training(summary, out, f"; try: stylefuse restore IMG --model {out} --task {task} -o OUT")


@app.command()
def info() -> None:
    """Show versions, threads, devices (CUDA GPUs, MPS, ONNX Runtime) and the status of the pretrained weights."""
    import torchvision

    import stylefuse
    from stylefuse.devices import device_report
    from stylefuse.encoders.vgg import ENCODER_ID, weights_status

    rows = [("stylefuse", stylefuse.__version__), ("python", platform.python_version()), *device_report(),
            ("torchvision", torchvision.__version__), ("encoder", ENCODER_ID), ("vgg16 weights", weights_status())]
    for key, value in rows:
        typer.echo(f"{key:14s} {value}")


def _parser_exceptions(name: str) -> tuple[type, ...]:
    """The parser's exception classes called ``name``: typer vendors click as ``typer._click`` in recent
    versions and uses click itself in older ones."""
    import importlib

    found = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stylefuse`` console script: user errors (ours and the parser's) print one
    ``error:`` line and exit with status 2."""
    try:
        from stylefuse.launcher import instant_command

        code = instant_command(sys.argv[1:] if argv is None else argv)  # before typer builds its parser (see launcher)
        if code is None:
            code = app(args=argv, standalone_mode=False, prog_name="stylefuse")
    except _parser_exceptions("NoArgsIsHelpError"):
        sys.exit(0)  # the parser has printed the help
    except _parser_exceptions("UsageError") as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        _err(f"error: {one_line(exc.format_message())}{hint}")
        sys.exit(2)
    except StylefuseError as exc:
        if _state["debug"]:
            raise
        _err(f"error: {one_line(str(exc))}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, *_parser_exceptions("Abort")):
        _err("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
