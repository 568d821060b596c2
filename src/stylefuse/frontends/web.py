"""``stylefuse serve``: a local web app (Gradio, the ``web`` extra) over :func:`stylefuse.api.prepare`.

A photo (uploaded or one of the shipped examples) is stylized with built-in styles (``fast``: two of them
blended by a slider), with uploaded paintings (``adain``, ``wct``, ``gatys``: one or two, blended), or with a
trained model folder given on the command line, at a style strength, optionally keeping the photo's colours.
Limits guard a shared machine: upload bytes, pixels, a queue with a concurrency limit, a Gatys step and size
cap, all checked on the server (the form's raw values go through ``web_form`` before anything is decoded);
every file the app writes (uploads, results, temporary files, library caches) goes under one temporary folder,
removed at exit; it binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stylefuse.errors import OptionError, StylefuseError

WEB_INSTALL = "the web app needs gradio: pip install 'stylefuse[web]'"
IMAGE_METHODS = ("adain", "wct", "gatys")
"""Methods that take style images (uploaded paintings)."""
FAST = "fast"
REGION_MODES = ("blend", "by colour", "mask")
"""How two styles share the picture: mixed everywhere by the blend slider, the first on the darker and the second
on the lighter region found by colour (``--regions auto:2``), or the first where an uploaded mask is white
(``--mask``); see :mod:`stylefuse.fusion.regions`."""


@dataclass
class ServeLimits:
    """What one request may cost.

    Args:
        max_upload_bytes: the largest file an upload may be.
        max_pixels: the most pixels a photo or painting may have.
        concurrency: requests stylized at the same time; the others wait in the queue.
        queue_size: requests that may wait; beyond, a request is told the app is busy.
        gatys_steps: the most optimisation steps a Gatys request may ask for.
        gatys_size: the long side Gatys results are computed at (it is slow at large sizes).
    """

    max_upload_bytes: int = 20_000_000
    max_pixels: int = 16_000_000
    concurrency: int = 1
    queue_size: int = 16
    gatys_steps: int = 100
    gatys_size: int = 384

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_pixels", "concurrency", "queue_size", "gatys_steps", "gatys_size"):
            if getattr(self, name) < 1:
                raise OptionError(f"{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")


@dataclass
class Request:
    """One stylization as the web form gives it: arrays are (H, W, 3) uint8, as Gradio delivers images.

    Args:
        photo: the content image.
        method: "fast", "adain", "wct", "gatys", or a model's label (see :attr:`WebStylist.models`).
        styles: built-in style names (fast), first and second.
        paintings: uploaded style images (adain, wct, gatys), first and second (None: not given).
        blend: the weight of the second style, 0..1.
        strength: style strength 0..1.
        keep_colors: keep the photo's colours.
        steps: Gatys optimisation steps (capped).
        regions: one of :data:`REGION_MODES`.
        mask: the mask of the "mask" mode, (H, W[, 3]) uint8, white where the first style goes.
    """

    photo: np.ndarray | None
    method: str = FAST
    styles: tuple[str | None, str | None] = (None, None)
    paintings: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    blend: float = 0.0
    strength: float = 1.0
    keep_colors: bool = False
    steps: int = 50
    regions: str = REGION_MODES[0]
    mask: np.ndarray | None = None


class StylizerCache:
    """The stylizers a server has loaded, kept across requests: a bounded least-recently-used map, safe to share
    between the worker threads (the ``stylizers`` of :func:`stylefuse.api.prepare`).

    Two threads missing the same key at once may both build it; one result is kept (building is a load of the
    same files, so either will do) and the lock is never held while loading.

    Args:
        size: the most stylizers kept (>= 1).
    """

    def __init__(self, size: int = 8) -> None:
        import collections
        import threading

        if size < 1:
            raise OptionError(f"the stylizer cache size must be >= 1, got {size}")
        self.size = size
        self._items: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0
        """How many stylizers were built (loaded) so far."""

    def get(self, key: str, build):
        """The stylizer stored under ``key``, or ``build()``'s, stored (the oldest is dropped beyond ``size``)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self.builds += 1
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class WebStylist:
    """The app's logic without its page: checks a :class:`Request` against the limits and runs it through
    :func:`stylefuse.api.prepare` (the same path as the CLI), keeping the loaded stylizers across requests.

    Args:
        limits: see :class:`ServeLimits`.
        models: trained model folders, or files of ``stylefuse export`` (.onnx, run by ONNX Runtime), offered
            as methods labelled ``model: <name>``.
        device: where the networks run (a resolved device, see :func:`stylefuse.devices.resolve_device`).
        cache_size: the most loaded stylizers kept (see :class:`StylizerCache`).
    """

    limits: ServeLimits = field(default_factory=ServeLimits)
    models: list[Path] = field(default_factory=list)
    device: str = "cpu"
    cache_size: int = 8

    def __post_init__(self) -> None:
        from stylefuse import hub

        for folder in self.models:
            if not _is_exported(folder):
                hub.read_config(folder)  # a bad folder is a one-line error at start-up, not at the first request
        self.labels = {f"model: {Path(folder).name}": Path(folder) for folder in self.models}
        self.stylizers = StylizerCache(self.cache_size)

    def methods(self) -> list[str]:
        """The method choices of the page: fast when styles are built in, the image methods, the models."""
        from stylefuse.builtin import builtin_style_names

        return ([FAST] if builtin_style_names() else []) + list(IMAGE_METHODS) + list(self.labels)

    def run(self, request: Request) -> np.ndarray:
        """Stylize; returns (H', W', 3) uint8. User mistakes raise :class:`StylefuseError` with one line."""
        import torch

        from stylefuse import api
        from stylefuse.image.io import as_picture, quantize

        photo = self._checked(request.photo, "photo")
        if not 0.0 <= request.blend <= 1.0 or not 0.0 <= request.strength <= 1.0:
            raise OptionError("blend and strength must be between 0 and 1")
        method, model, styles, options = self._plan(request, max(photo.shape[:2]))
        regions = None
        if request.regions == "by colour":
            regions = "auto:2"
        elif request.regions == "mask":
            options["masks"] = [self._checked(request.mask, "mask")]
        job = api.prepare(styles, method, model, request.strength, request.keep_colors, self.limits.max_pixels,
                          wiring={"progress": False, "device": self.device}, regions=regions,
                          stylizers=self.stylizers, **options)
        with torch.inference_mode():
            result = job.run(as_picture(photo, self.limits.max_pixels))
        return quantize(result.rgb.permute(1, 2, 0))

    def _plan(self, request: Request, long_side: int) -> tuple[str | None, Path | None, Any, dict[str, Any]]:
        """(method, model folder, styles, options) for :func:`stylefuse.api.prepare`."""
        if request.regions not in REGION_MODES:
            raise OptionError(f"unknown regions {request.regions!r}; choose from {', '.join(REGION_MODES)}")
        mix = self._styles(request)
        model = self.labels.get(request.method)
        if model is not None and _is_exported(model):
            styles = mix(self._paintings(request), request.blend) or mix(request.styles, request.blend)
            return "onnx", None, styles or None, {"file": model}
        if model is not None:
            return None, model, mix(request.styles, request.blend) or None, {}
        if request.method == FAST:  # an uploaded painting takes the place of the built-in style beside it
            pair = tuple(name if painting is None else painting
                         for name, painting in zip(request.styles, self._paintings(request)))
            styles = mix(pair, request.blend)
            if not styles:
                raise OptionError("pick a built-in style or upload a painting")
            return FAST, None, styles, {}
        if request.method not in IMAGE_METHODS:
            raise OptionError(f"unknown method {request.method!r}; choose from {', '.join(self.methods())}")
        styles = mix(self._paintings(request), request.blend)
        if not styles:
            raise OptionError(f"{request.method} needs a painting: upload one")
        if request.method != "gatys":
            return request.method, None, styles, {}
        if not 1 <= request.steps <= self.limits.gatys_steps:
            raise OptionError(f"steps must be between 1 and {self.limits.gatys_steps}")
        return "gatys", None, styles, {"steps": request.steps, "size": min(self.limits.gatys_size, long_side)}

    def _styles(self, request: Request):
        """``styles(pair, weight)``: the two styles mixed by the blend slider, or, in a region mode, each on its
        own (both needed)."""
        if request.regions == REGION_MODES[0]:
            return _blend

        def separate(pair: tuple[Any, Any], weight: float) -> list[tuple[Any, float]]:
            if pair[0] is None and pair[1] is None:
                return []
            if pair[0] is None or pair[1] is None:
                raise OptionError(f"regions {request.regions!r} put one style on each region: give two styles")
            return [(pair[0], 1.0), (pair[1], 1.0)]

        return separate

    def _paintings(self, request: Request) -> tuple[np.ndarray | None, np.ndarray | None]:
        first, second = (None if p is None else self._checked(p, "painting") for p in request.paintings)
        return first, second

    def _checked(self, image: np.ndarray | None, what: str) -> np.ndarray:
        if image is None:
            raise OptionError(f"no {what}: upload one" + (" or pick an example" if what == "photo" else ""))
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise OptionError(f"the {what} is not an RGB image")
        pixels = image.shape[0] * image.shape[1]
        if pixels > self.limits.max_pixels:
            raise OptionError(f"the {what} has {pixels} pixels; this app takes at most {self.limits.max_pixels}")
        return np.ascontiguousarray(image[..., :3])


def _is_exported(path: Path) -> bool:
    """A file of ``stylefuse export`` (ONNX) rather than a model folder."""
    return Path(path).suffix.lower() == ".onnx" and Path(path).is_file()


def _blend(pair: tuple[Any, Any], weight: float) -> list[tuple[Any, float]]:
    """The (style, weight) list of a first and an optional second style, the second weighted ``weight``."""
    first, second = pair
    styles = [(item, w) for item, w in ((first, 1.0 - weight), (second, weight)) if item is not None and w > 0]
    if first is not None and not styles:  # the blend slider at an end whose style is missing
        styles = [(first, 1.0)]
    return styles


def example_photos() -> list[Path]:
    """The photos shipped with stylefuse, offered as examples."""
    folder = Path(__file__).resolve().parents[1] / "data" / "photos"
    return sorted(folder.glob("*.jpg"))


def build_app(stylist: WebStylist):
    """The Gradio page (``gradio.Blocks``) over ``stylist``; element ids: photo, method, style_a, style_b,
    painting_a, painting_b, blend, strength, keep_colors, steps, regions, mask, run, result, status."""
    import gradio as gr
    from gradio.utils import get_upload_folder

    from stylefuse.builtin import builtin_style_names
    from stylefuse.frontends.web_form import form_request

    names = builtin_style_names()
    methods = stylist.methods()

    served = itertools.count(1)

    def stylize(*form):  # raw values (preprocess=False): web_form checks them before anything is decoded
        try:
            pixels = stylist.run(form_request(stylist.limits, get_upload_folder(), *form))
        except StylefuseError as exc:
            raise gr.Error(str(exc)) from None
        return _numbered(pixels, next(served)), "done"

    with gr.Blocks(title="stylefuse") as app:
        gr.Markdown("# stylefuse\nStyle transfer on this machine: nothing leaves it.")
        with gr.Row():
            with gr.Column():
                photo = gr.Image(label="Photo", type="numpy", image_mode="RGB", elem_id="photo", sources=["upload"])
                gr.Examples([[str(path)] for path in example_photos()], inputs=[photo], label="Example photos")
                method = gr.Dropdown(methods, value=methods[0], label="Method", elem_id="method")
                with gr.Row():
                    style_a = gr.Dropdown(names, value=names[0] if names else None, label="Built-in style (fast)",
                                          elem_id="style_a")
                    style_b = gr.Dropdown([""] + names, value="", label="Second built-in style", elem_id="style_b")
                with gr.Row():
                    painting_a = gr.Image(label="Painting (replaces the built-in style for fast)", type="numpy",
                                          image_mode="RGB", elem_id="painting_a", sources=["upload"])
                    painting_b = gr.Image(label="Second painting", type="numpy", image_mode="RGB",
                                          elem_id="painting_b", sources=["upload"])
                blend = gr.Slider(0, 1, value=0, step=0.05, label="Blend: weight of the second style",
                                  elem_id="blend")
                with gr.Row():
                    regions = gr.Radio(list(REGION_MODES), value=REGION_MODES[0], elem_id="regions",
                                       label="Two styles: blended, one per colour region (first on the darker), or "
                                       "by a mask")
                    mask = gr.Image(label="Mask (white: first style)", type="numpy", image_mode="RGB",
                                    elem_id="mask", sources=["upload"])
                strength = gr.Slider(0, 1, value=1, step=0.05, label="Strength", elem_id="strength")
                keep_colors = gr.Checkbox(label="Keep the photo's colours", elem_id="keep_colors")
                steps = gr.Slider(1, stylist.limits.gatys_steps, value=min(50, stylist.limits.gatys_steps), step=1,
                                  label="Gatys steps", elem_id="steps")
                run = gr.Button("Stylize", variant="primary", elem_id="run")
            with gr.Column():
                result = gr.Image(label="Result (full resolution: use the download button)", type="numpy",
                                  format="png", elem_id="result", interactive=False)
                status = gr.Textbox(label="Status", elem_id="status", interactive=False)
        controls = [photo, method, style_a, style_b, painting_a, painting_b, blend, strength, keep_colors, steps,
                    regions, mask]  # an API call sends one value per control, in this order
        run.click(stylize, controls, [result, status], concurrency_limit=stylist.limits.concurrency,
                  preprocess=False)
    app.queue(max_size=stylist.limits.queue_size, default_concurrency_limit=stylist.limits.concurrency)
    return app


def _numbered(pixels: np.ndarray, number: int):
    """The result (H, W, 3) uint8 as a PIL image whose PNG text names the request: Gradio stores a result under
    the hash of its PNG bytes and rewrites that file in place, so two requests with the same pixels would
    overwrite the file while the first one is being downloaded (a truncated download)."""
    from PIL import Image

    image = Image.fromarray(pixels)
    image.info["Software"] = "stylefuse"
    image.info["stylefuse-request"] = str(number)
    return image


def serve(stylist: WebStylist, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Start the app on ``host``:``port`` with every file it writes under a fresh temporary folder.

    Returns:
        (the Gradio app, its URL, the temporary folder); with ``block`` it returns only when stopped.
    """
    folder = Path(tempfile.mkdtemp(prefix="stylefuse-serve-"))
    saved = confine_writes(folder)

    def clean_up() -> None:
        release_writes(saved)
        shutil.rmtree(folder, ignore_errors=True)

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls
    try:
        import gradio  # noqa: F401
    except ImportError:
        clean_up()
        raise OptionError(WEB_INSTALL) from None
    app = build_app(stylist)
    try:
        _, url, _ = app.launch(server_name=host, server_port=port, max_file_size=stylist.limits.max_upload_bytes,
                               prevent_thread_lock=True, ssr_mode=False, quiet=True, footer_links=[],
                               show_error=True)
    except OSError as exc:
        clean_up()
        raise OptionError(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
    if not block:
        return app, url, folder
    print(f"stylefuse serve: {url} (files under {folder}; Ctrl-C stops)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop also cleans up
    try:
        app.block_thread()
    finally:
        app.close()
        clean_up()
    return app, url, folder


_CONFINED = (("GRADIO_TEMP_DIR", "gradio"), ("TMPDIR", "tmp"), ("XDG_CACHE_HOME", "cache"),
             ("MPLCONFIGDIR", "matplotlib"))


def confine_writes(folder: Path) -> dict[str, str | None]:
    """Send the files this process writes under ``folder``: Gradio's uploads and results (``gradio/``), Python's
    temporary files, and the caches that matplotlib (imported by Gradio) and ONNX Runtime keep in the home folder.
    stylefuse's own weight cache (``$STYLEFUSE_CACHE``) stays where it is: it is pinned before the home cache
    folder moves.

    Returns:
        the settings it replaced, for :func:`release_writes` (the folder is removed when the server stops).
    """
    from stylefuse.encoders.vgg import cache_dir

    saved = {name: os.environ.get(name) for name, _ in _CONFINED}
    saved["tempfile.tempdir"] = tempfile.tempdir
    os.environ["STYLEFUSE_CACHE"] = str(cache_dir())
    # separate folders: Gradio serves and accepts any file under its own, so the caches stay out of it
    for name, sub in _CONFINED:
        (folder / sub).mkdir()
        os.environ[name] = str(folder / sub)
    tempfile.tempdir = str(folder / "tmp")
    return saved


def release_writes(saved: dict[str, str | None]) -> None:
    """Undo :func:`confine_writes`: its folder is about to go, so nothing may keep writing there."""
    tempfile.tempdir = saved.pop("tempfile.tempdir")
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
