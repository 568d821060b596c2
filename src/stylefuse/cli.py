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
    style: List[str] = typer.Option([], "--style", "-s", help="Style image (PATH[:WEIGHT]) or built-in style name "
                                    "(NAME[:WEIGHT], see `stylefuse list`); repeat or separate with commas to blend."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Output file (a folder when CONTENT is a folder)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Method (see `stylefuse list`)."),
    model: Optional[Path] = typer.Option(None, "--model", help="A trained model folder (no --style needed)."),
    size: Optional[int] = typer.Option(None, help="Long side of the result in pixels."),
    steps: Optional[int] = typer.Option(None, help="Optimisation steps at full size."),
    coarse_steps: Optional[int] = typer.Option(None, help="Steps at each coarser pyramid level."),
    levels: Optional[int] = typer.Option(None, help="gatys: coarse-to-fine levels (1 = single scale)."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="α: content weight (gatys) or style strength "
                                          "0..1 (adain, wct, named styles)."),
    strength: Optional[float] = typer.Option(None, "--strength", help="Style strength 0..1 (named styles, adain, "
                                             "wct); same as --alpha there."),
    content_weight: Optional[float] = typer.Option(None, "--content-weight", help="Content weight α (gatys)."),
    style_weight: Optional[float] = typer.Option(None, "--style-weight", "--beta", help="Style weight β."),
    tv_weight: Optional[float] = typer.Option(None, help="Total-variation weight."),
    optimizer: Optional[str] = typer.Option(None, help="lbfgs or adam."),
    parameterization: Optional[str] = typer.Option(None, help="gatys: laplacian (optimise the bands of a Laplacian "
                                                   "pyramid, default) or pixels."),
    init: Optional[str] = typer.Option(None, help="gatys: start from content, noise, style or adain (AdaIN result)."),
    style_scale: Optional[float] = typer.Option(None, help="Style image size relative to the result."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    preserve_color: bool = typer.Option(False, "--preserve-color", help="Keep the content's colours."),
    mask: List[Path] = typer.Option([], "--mask", help="adain/wct: one mask per --style (white = that style), or "
                                    "one fewer (the last style fills the rest); same size as the content."),
    tile: Optional[int] = typer.Option(None, help="adain/wct: images larger than this go through blended tiles."),
    max_pixels: int = typer.Option(64_000_000, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
    threads: Optional[int] = typer.Option(None, help="CPU threads (default: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Stylize CONTENT (a file or a folder) with one or more styles, or with a trained --model."""
    from stylefuse import api
    from stylefuse.image.io import read_image

    api.set_threads(threads)
    if alpha is not None and strength is not None:
        raise OptionError("give --alpha or --strength, not both")
    texts = [item for text in style for item in api.split_style_list(text)]
    specs = api.normalize_styles([api.parse_style_argument(text) for text in texts]) if texts else []
    mix = api.named_style_mix(specs) if specs else None
    if model is not None and not _is_style_model(model):
        _translate_inputs(model, content, output, max_pixels, overwrite_input, preserve_color)
        return
    if model is not None or mix is not None:
        mix = mix or _only_style_of(model)
        level = 1.0 if strength is None and alpha is None else (strength if strength is not None else alpha)

        def process_named(picture):
            return api.stylize_named(picture, mix, model, level, preserve_color, size), False

        _run_over_inputs(content, output, [], max_pixels, overwrite_input, process_named)
        return
    if not style:
        raise OptionError("give at least one --style image or built-in style name (or a trained --model folder)")
    name = method or api.choose_method(specs)
    strength_option = getattr(api.METHODS.get(name), "strength_option", None)
    if strength is not None and strength_option is None:
        raise OptionError(f"--strength applies to named styles, adain and wct, not to {name}")
    if alpha is not None:
        if strength_option is None:
            content_weight = alpha if content_weight is None else content_weight
        else:
            strength = alpha
    options: dict[str, Any] = {key: value for key, value in dict(
        size=size, steps=steps, coarse_steps=coarse_steps, levels=levels, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, optimizer=optimizer,
        parameterization=parameterization, init=init,
        style_scale=style_scale, seed=seed, tile=tile).items() if value is not None}
    if mask:
        missing = [str(path) for path in mask if not path.is_file()]
        if missing:
            raise ImageReadError(f"cannot read mask {missing[0]}: no such file")
        options["masks"] = list(mask)
    if strength is not None:
        options[strength_option] = strength
    options["progress"] = not quiet
    styles = [read_image(spec.image, max_pixels) for spec in specs]
    weights = [spec.weight for spec in specs]
    stylizer = api.create_method(name, **options)

    def process(picture):
        return api.run_method(stylizer, picture, styles, weights, preserve_color), stylizer.interrupted

    _run_over_inputs(content, output, [Path(spec.image) for spec in specs], max_pixels, overwrite_input, process)


def _is_style_model(model: Path) -> bool:
    from stylefuse.hub import read_config

    return read_config(model)["network"] == "fast_stylizer"


def _only_style_of(model: Optional[Path]) -> list[tuple[str, float]]:
    """The style of a one-style model folder; several styles need --style NAME."""
    from stylefuse.hub import read_config

    names = read_config(model).get("style_names") or [] if model is not None else []
    if len(names) != 1:
        raise OptionError(f"this model has several styles; choose with --style NAME ({', '.join(names)})")
    return [(names[0], 1.0)]


def _translate_inputs(model: Path, content: Path, output: Optional[Path], max_pixels: int, overwrite_input: bool,
                      preserve_color: bool = False, tile: int = 512) -> None:
    from stylefuse.image import ops
    from stylefuse.image.io import Picture
    from stylefuse.translate import GeneratorModel

    generator = GeneratorModel(model)

    def process(picture):
        rgb = generator.translate(picture.rgb, tile=tile)
        if preserve_color:
            rgb = ops.preserve_color(rgb, picture.rgb)
        return Picture(rgb=rgb, alpha=picture.alpha), False

    _run_over_inputs(content, output, [], max_pixels, overwrite_input, process)


def _run_over_inputs(content: Path, output: Optional[Path], protected: list[Path], max_pixels: int,
                     overwrite_input: bool, process) -> None:
    """Apply ``process(picture) -> (picture, interrupted)`` to a file or to every file of a folder.

    In a folder, a file that fails is reported on one line and skipped, the rest goes on, and the
    exit status is 2 if anything was skipped.
    """
    from stylefuse.image.io import ensure_not_input, read_image, write_image

    if content.is_dir():
        jobs = _folder_jobs(content, output)
    else:
        if not content.exists():
            raise ImageReadError(f"cannot read {content}: no such file or folder")
        jobs = [(content, output or Path(f"{content.stem}-stylized.png"))]
    inputs = protected + [source for source, _ in jobs]
    written, skipped = 0, []
    for source, target in jobs:
        started = time.perf_counter()
        try:
            ensure_not_input(target, inputs, overwrite_input)
            result, interrupted = process(read_image(source, max_pixels))
            write_image(target, result.rgb, result.alpha)
        except StylefuseError as exc:
            if len(jobs) == 1:
                raise
            _err(f"skipped {source.name}: {exc}")
            skipped.append(source)
            continue
        written += 1
        height, width = result.rgb.shape[-2:]
        note = " (interrupted: best result so far)" if interrupted else ""
        typer.echo(f"wrote {target} ({width}x{height}, {time.perf_counter() - started:.1f} s){note}")
        if interrupted:
            raise typer.Exit(130)
    if len(jobs) > 1:
        typer.echo(f"{written} written, {len(skipped)} skipped")
    if skipped:
        raise typer.Exit(2)


@app.command()
def train(
    method: str = typer.Argument(..., help="fast, inverter, cyclegan, pix2pix, adversarial_style or dcgan."),
    out: Path = typer.Option(..., "--out", help="Model folder: weights, config, checkpoint, samples, logs."),
    a: Optional[Path] = typer.Option(None, "--a", help="Domain A folder (cyclegan, pix2pix)."),
    b: Optional[Path] = typer.Option(None, "--b", help="Domain B folder; pix2pix pairs A/B by file name."),
    data: Optional[Path] = typer.Option(None, "--data", help="Photo folder (fast, inverter, adversarial_style) "
                                        "or images (dcgan)."),
    style: List[Path] = typer.Option([], "--style", help="Style images, repeatable (fast), or a folder of artworks "
                                     "(adversarial_style)."),
    size: Optional[int] = typer.Option(None, help="Training crop size in pixels."),
    level: Optional[str] = typer.Option(None, help="inverter: the VGG16 level to invert (relu1_1 .. relu5_1)."),
    steps: int = typer.Option(1000, help="Training steps."),
    batch_size: Optional[int] = typer.Option(None, help="Images per step."),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate (default: the method's own)."),
    gan_loss: Optional[str] = typer.Option(None, help="bce, lsgan or hinge."),
    diff_augment: Optional[str] = typer.Option(None, help="DiffAugment policy, e.g. color,translation,cutout."),
    r1: Optional[float] = typer.Option(None, help="R1 penalty weight."),
    spectral_norm: Optional[bool] = typer.Option(None, "--spectral-norm/--no-spectral-norm"),
    set_: List[str] = typer.Option([], "--set", help="Method option KEY=VALUE, e.g. --set lambda_cycle=5."),
    checkpoint_every: int = typer.Option(200, help="Steps between checkpoints."),
    sample_every: int = typer.Option(200, help="Steps between sample grids."),
    validate_every: int = typer.Option(0, help="Early stopping: steps between validations (0 = off)."),
    patience: int = typer.Option(5, help="Early stopping: validations without improvement before stopping."),
    seed: int = typer.Option(0, help="Random seed."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop (and save) after this much wall time."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Train a GAN method; the result is a model folder for `translate`, `stylize --model` or `generate`."""
    import torch

    from stylefuse.registry import TRAINABLE
    from stylefuse.train.loop import Trainer, TrainOptions

    cls = TRAINABLE.get(method)
    folders = {"a": a, "b": b, "data": data, "style": style or None}
    missing = [f"--{name}" for name in cls.data_folders if folders[name] is None]
    if missing:
        needed = ", ".join("--" + name for name in cls.data_folders)
        raise OptionError(f"{method} trains on {needed}; missing {', '.join(missing)}")
    common = dict(size=size, batch_size=batch_size, gan_loss=gan_loss, diff_augment=diff_augment, r1=r1,
                  spectral_norm=spectral_norm, level=level)
    recipe = _build_recipe(cls.recipe_class, {k: v for k, v in common.items() if v is not None}, set_)
    torch.manual_seed(seed)
    task = cls(recipe)
    batches = task.make_batches({k: v for k, v in folders.items() if v is not None}, seed, report=_err)
    options = TrainOptions(steps=steps, lr=lr or cls.default_lr, betas=cls.default_betas,
                           checkpoint_every=checkpoint_every, sample_every=sample_every,
                           validate_every=validate_every, patience=patience if validate_every else 0,
                           seed=seed, device=device, progress=not quiet,
                           max_seconds=max_minutes * 60 if max_minutes else None)
    validate = task.validator(batches) if validate_every else None
    trainer = Trainer(task, batches, options, out, validate=validate)
    summary = trainer.fit(resume=resume)
    task.export(trainer, out)
    state = "interrupted" if summary["interrupted"] else "stopped early" if summary["stopped_early"] else "done"
    typer.echo(f"{state} at step {summary['steps']} ({summary['seconds']:.0f} s, {summary['skipped_steps']} skipped); "
               f"model folder {out}")
    if summary["interrupted"]:
        raise typer.Exit(130)


def _build_recipe(recipe_class, values: dict[str, Any], assignments: list[str]):
    """The method's recipe from common options and KEY=VALUE strings, typed by the recipe's defaults."""
    import dataclasses
    import json

    defaults = {f.name: getattr(recipe_class(), f.name) for f in dataclasses.fields(recipe_class)}
    foreign = [key.replace("_", "-") for key in values if key not in defaults]
    if foreign:
        raise OptionError(f"this method does not take --{', --'.join(foreign)}")
    for text in assignments:
        key, sep, raw = text.partition("=")
        if not sep or key not in defaults:
            raise OptionError(f"--set takes KEY=VALUE with KEY one of {', '.join(defaults)}; got {text!r}")
        default = defaults[key]
        try:
            value = json.loads(raw) if not isinstance(default, str) else raw
        except json.JSONDecodeError:
            raise OptionError(f"--set {key}: {raw!r} is not a valid value") from None
        values[key] = type(default)(value) if isinstance(default, (int, float)) and not isinstance(default, bool) \
            else value
    try:
        return recipe_class(**values)
    except (TypeError, ValueError) as exc:
        raise OptionError(str(exc)) from None


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
    lr: Optional[float] = typer.Option(None, help="Learning rate (default: lbfgs 1; adam 1e-1 for norm-only, 1e-3 "
                                       "for other strategies, 1e-4 for GAN bases)."),
    validate_every: Optional[int] = typer.Option(None, min=0, help="Steps between validations on held-out photos "
                                                 "(default: 6 per run, GAN bases every 50; 0 = off)."),
    patience: int = typer.Option(4, help="Validations without improvement before stopping early."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop (and save) after this much wall time."),
    seed: int = typer.Option(0, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Learn a new style from a few images by training few parameters of a pretrained model: the
    built-in multi-style network (a new conditional-norm style) or a GAN model folder (FreezeD)."""
    from stylefuse.hub import read_config
    from stylefuse.methods.personalize import DEFAULT_PHOTOS, FREEZE_STRATEGIES, personalize_model
    from stylefuse.methods.personalize_gan import personalize_gan

    if freeze is not None and freeze not in FREEZE_STRATEGIES:
        raise OptionError(f"unknown --freeze {freeze!r}; choose from {', '.join(FREEZE_STRATEGIES)}")
    style_images = list(images) + list(more_images or [])
    if not style_images:
        raise OptionError("give the new style's images with --images IMG [IMG ...]")
    if not 1 <= len(style_images) <= 10:
        raise OptionError(f"give 1 to 10 images of the new style, got {len(style_images)}")
    if optimizer not in (None, "adam", "lbfgs"):
        raise OptionError(f"unknown --optimizer {optimizer!r}; choose adam or lbfgs")
    common = dict(lr=lr, patience=patience, max_minutes=max_minutes, seed=seed, progress=not quiet, report=typer.echo)
    given = dict(steps=steps, batch_size=batch_size, validate_every=validate_every)
    common.update({key: value for key, value in given.items() if value is not None})  # else each base's own
    if base != "builtin" and read_config(base)["network"] != "fast_stylizer":
        if optimizer == "lbfgs":
            raise OptionError("--optimizer lbfgs needs a deterministic objective; GAN bases train against a "
                              "discriminator: use adam")
        summary = personalize_gan(style_images, out, Path(base), data or DEFAULT_PHOTOS, strategy=freeze or "decoder",
                                  size=size or 128, **common)
    else:
        summary = personalize_model(style_images, out, base=base, name=name, data=data, optimizer=optimizer,
                                    strategy=freeze or "norm-only", size=size or 256, **common)
    hint = f" --style {name}" if read_config(out)["network"] == "fast_stylizer" else ""
    typer.echo(f"{summary['state']} at step {summary['steps']} ({summary['seconds']:.0f} s); model folder {out}; "
               f"try: stylefuse stylize photo.jpg --model {out}{hint}")
    if summary["state"] == "interrupted":
        raise typer.Exit(130)


@app.command()
def translate(
    content: Path = typer.Argument(..., help="Image or folder to translate."),
    model: Path = typer.Option(..., "--model", help="Model folder from `stylefuse train`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (a folder for a folder)."),
    tile: int = typer.Option(512, help="Images larger than this go through overlapping tiles."),
    max_pixels: int = typer.Option(64_000_000, help="Refuse input images with more pixels than this."),
    overwrite_input: bool = typer.Option(False, "--overwrite-input", help="Allow writing over an input file."),
) -> None:
    """Translate an image (or a folder) with a trained generator (cyclegan, pix2pix, adversarial_style)."""
    _translate_inputs(model, content, output, max_pixels, overwrite_input, tile=tile)


@app.command()
def generate(
    model: Path = typer.Option(..., "--model", help="A dcgan model folder."),
    count: int = typer.Option(64, "-n", help="How many images."),
    output: Path = typer.Option(Path("generated.png"), "--output", "-o", help="Grid image to write."),
    seed: int = typer.Option(0, help="Noise seed."),
) -> None:
    """Generate a grid of images from noise with a trained DCGAN."""
    import math

    from torchvision.utils import make_grid

    from stylefuse.image.io import write_image
    from stylefuse.translate import GeneratorModel

    if count < 1:
        raise OptionError("-n must be at least 1")
    images = GeneratorModel(model).generate(count, seed)
    write_image(output, make_grid(images, nrow=math.ceil(math.sqrt(count)), padding=2))
    typer.echo(f"wrote {output} ({count} images)")


def _folder_jobs(folder: Path, output: Optional[Path]) -> list[tuple[Path, Path]]:
    from stylefuse.image.io import WRITE_FORMATS, list_image_files

    folder = folder.resolve()  # "." has no name to derive the output folder from
    out_dir = output or folder.with_name(folder.name + "-stylized")
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"{out_dir} is a file; with a folder of images, -o must be a folder")
    files = list_image_files(folder)
    if not files:
        raise ImageReadError(f"{folder} holds no files to process")
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
    from stylefuse.styles import builtin_style_names

    names = builtin_style_names()
    typer.echo("built-in styles (stylefuse stylize photo.jpg --style NAME):")
    typer.echo("  " + (", ".join(names) if names else "(none shipped)"))


@app.command()
def sheet(
    content: Path = typer.Argument(..., help="Photo to render in every style."),
    output: Path = typer.Option(Path("sheet.jpg"), "--output", "-o", help="Contact sheet image to write."),
    model: Optional[Path] = typer.Option(None, "--model", help="A multi-style model folder (default: built-in)."),
    size: int = typer.Option(384, help="Long side of each rendered image."),
    columns: Optional[int] = typer.Option(None, help="Images per row."),
    max_pixels: int = typer.Option(64_000_000, help="Refuse input images with more pixels than this."),
) -> None:
    """Render a photo in every style of a multi-style model on one contact sheet."""
    from stylefuse import api
    from stylefuse.image import ops
    from stylefuse.image.io import as_picture, ensure_not_input, read_image, write_image
    from stylefuse.image.sheet import contact_sheet
    from stylefuse.styles import builtin_style_names, load_style_model

    if size < 16:
        raise OptionError("--size must be at least 16")
    ensure_not_input(output, [content], False)
    picture = read_image(content, max_pixels)
    rgb = ops.resize_long_side(picture.rgb, size).clamp(0, 1)
    names = builtin_style_names() if model is None else load_style_model(str(model)).names
    if not names:
        raise OptionError("this installation ships no built-in styles; give a multi-style --model")
    cells = [("original", rgb)]
    for name in names:
        cells.append((name, api.stylize_named(api.Picture(rgb=rgb, alpha=None), [(name, 1.0)], model).rgb))
    image = contact_sheet(cells, columns=columns, cell_size=size)
    write_image(output, as_picture(image).rgb)
    typer.echo(f"wrote {output} ({len(names)} styles)")


@app.command("eval")
def eval_command(
    method: str = typer.Option(..., "--method", "-m", help="A registered method, or `fast` for named styles."),
    content: Path = typer.Option(..., "--content", help="Folder of photos."),
    style: Path = typer.Option(..., "--style", help="Folder of paintings."),
    out: Path = typer.Option(..., "--out", help="Report folder (results are cached there)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Multi-style model folder for `fast` (default: "
                                         "built-in)."),
    size: int = typer.Option(512, help="Long side of the photos."),
    steps: Optional[int] = typer.Option(None, help="Optimisation steps (gatys)."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help="Style strength (adain, wct)."),
    metric: List[str] = typer.Option([], "--metric", help="Metrics to compute (default: all registered)."),
    no_distribution: bool = typer.Option(False, "--no-distribution", help="Skip patch FID / KID / ArtFID."),
) -> None:
    """Stylize every photo x painting pair, measure the results and write metrics.json + report.html."""
    from stylefuse.evaluate import evaluate, method_candidate, named_styles_candidate
    from stylefuse.metrics.report import write_report

    if method == "fast":
        candidate = named_styles_candidate(None if model is None else str(model))
    else:
        options = {key: value for key, value in dict(steps=steps, alpha=alpha).items() if value is not None}
        candidate = method_candidate(method, **options)
    run = evaluate(candidate, content, style, out, size=size, metric_names=metric or None,
                   distribution=not no_distribution, report=_err)
    path = write_report([run], out)
    summary = ", ".join(f"{k} {v:.4g}" for k, v in run["summary"].items())
    typer.echo(f"{run['pairs']} pairs: {summary}")
    typer.echo(f"wrote {path}")


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
