"""Fast feed-forward stylizers for one or many named styles: inference of a trained multi-style model
folder (the built-in one, ``stylefuse train fast`` or ``stylefuse personalize``), and training with a
perceptual loss (Johnson, Alahi & Fei-Fei 2016, "Perceptual Losses for Real-Time Style Transfer and
Super-Resolution"; many styles in one network through conditional instance norm, Dumoulin et al. 2017).

A style mix such as ``starry-night:0.6,the-scream:0.4`` becomes a weight vector over the model's styles,
which interpolates the per-style conditional-norm parameters, channel mixes and colour maps (Dumoulin et
al. 2017, section 4). On the CPU the network runs in ONNX Runtime when it is installed (it is, as a
dependency of the encoder's weights package); the ONNX graph is exported once per weights file and cached.

loss = α·content + β·style + γ·TV, where content is the relative VGG16 feature error between the output
and the photo at ``content_layers``, and style the relative Gram error against the style image of each
batch item at ``style_layers`` (each item is paired with one style, cycling through all of them).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from stylefuse.builtin import STYLES_FOLDER as BUILTIN_FOLDER
from stylefuse.content_cache import TABLES_FOLDER, ContentCache, pixels_key
from stylefuse.data.folders import DatasetError, ImageFolder, UnpairedCrops
from stylefuse.encoders.vgg import ENCODER_ID, MultiLayerEncoder
from stylefuse.errors import OptionError
from stylefuse.hub import load_model
from stylefuse.image import ops
from stylefuse.image.io import list_image_files, read_image
from stylefuse.losses import functional as LF
from stylefuse.methods import style_statistics
from stylefuse.methods._base import STYLE_NAMES, Stylizer
from stylefuse.methods._trainable import TrainableMethod
from stylefuse.nn.export import IMAGE_AXES, ExportGraph, onnx_bytes
from stylefuse.nn.fast_stylizer import FastStylizerNet
from stylefuse.onnx_runtime import FAST_EXPORTS, has_onnxruntime
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.styles import style_weights
from stylefuse.train.recipes import SizeRule, check_at_least, check_size

BACKENDS = ("auto", "torch", "onnxruntime")


@METHODS.register("fast", aliases=("personalize",))
class FastStylizer(Stylizer):
    """Named styles in real time: the built-in multi-style network, or one you trained or personalised.

    Args:
        model: a ``fast_stylizer`` model folder (None: the built-in one).
        size: long side of the result in pixels (None keeps the content's size).
        backend: "torch", "onnxruntime", or "auto" (ONNX Runtime on the CPU when available).
        device: "cpu" or "cuda" (the torch backend).
        tile: pictures with a longer side run in tiles of this size (None: always in one pass), with
            thumbnail instance norm (:mod:`stylefuse.nn.thumbnail_norm`, Chen et al. 2021): every tile uses
            the norm statistics of a thumbnail of the whole picture, so tiles show no seams and memory stays
            bounded (in PyTorch, whatever the backend).
        thumbnail: long side of that thumbnail.

    ``styles`` are names of the model's styles (:attr:`names`) or, when the model has a style predictor
    (Ghiasi et al. 2017, :mod:`stylefuse.nn.style_predictor`), paintings (3, h, w) whose tables it predicts
    (cached by content, :meth:`_Runner.painting_tables`); several are mixed by weight, as the weighted sum of
    their tables. The style strength is a blend with the content, applied by :class:`stylefuse.api.Job`
    like for every method without a strength of its own.
    """

    style_input = STYLE_NAMES

    def __init__(self, model: str | Path | None = None, size: int | None = None,
                 backend: str = "auto", device: str = "cpu", tile: int | None = 2048, thumbnail: int = 1024) -> None:
        if backend not in BACKENDS:
            raise OptionError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        if size is not None and size < 16:
            raise OptionError(f"size must be at least 16 pixels, got {size}")
        if model is None and not (BUILTIN_FOLDER / "config.json").is_file():
            raise OptionError("this installation ships no built-in styles; give a style image or --model")
        if tile is not None and tile < 256 or thumbnail < 64:
            raise OptionError(f"tile must be at least 256 pixels and thumbnail at least 64; got {tile}, {thumbnail}")
        self.folder = Path(model) if model is not None else BUILTIN_FOLDER
        self.size, self.tile, self.thumbnail = size, tile, thumbnail
        if backend == "auto":
            backend = "onnxruntime" if torch.device(device).type == "cpu" and has_onnxruntime() else "torch"
        self.runner = _load_runner(str(self.folder.resolve()), backend, device)
        self.document = self.runner.document
        self.names: list[str] = list(self.document.get("style_names") or [])

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> FastStylizer:
        if document["network"] != "fast_stylizer":
            return super().from_folder(folder, document, **options)
        return cls(model=folder, **options)

    def default_styles(self) -> list[tuple[Any, float]]:
        """The folder's own style: the one it was personalised for, or its only style."""
        own = self.document.get("default_style") or (self.names[-1] if self.document.get("method") == "personalize"
                                                      else None)
        if own is None and len(self.names) == 1:
            own = self.names[0]
        if own is None:
            raise OptionError(f"this model has several styles; choose with --style NAME ({', '.join(self.names)})")
        return [(own, 1.0)]

    @property
    def takes_style_images(self) -> bool:
        """Paintings are styles too when the model has a style predictor."""
        return self.runner.network.predictor_config is not None

    def style_vector(self, mix: Sequence[tuple[str, float]]) -> torch.Tensor:
        """The (S,) weight vector of a mix of named styles (see :func:`style_vector`)."""
        return style_vector(self.names, mix)

    def export_graph(self) -> ExportGraph:
        """The network with its style-weight input (see :meth:`_Runner.graph`); the size is applied outside
        it."""
        return self.runner.graph()

    def export_part(self, part: str) -> ExportGraph:
        """A part of :data:`EXPORT_PARTS`: ``stylizer`` (as :meth:`export_graph`), ``tables`` (the network with
        a painting's flat tables (B, D) as its style input) or ``predictor`` (a painting scaled to the
        predictor's style size, written in the file's metadata -> its flat tables); ``predictor`` then
        ``tables`` stylize with any painting."""
        if part not in EXPORT_PARTS:
            raise OptionError(f"unknown part {part!r}; choose from {', '.join(EXPORT_PARTS)}")
        if part == "predictor" and not self.takes_style_images:
            raise OptionError(f"{self.folder} has no style predictor to export; its parts are stylizer and tables")
        return self.runner.export_graph(EXPORT_PARTS[part])

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, styles: Sequence[str],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Stylize (3, H, W) in [0, 1] with the named ``styles`` mixed by ``weights``; (3, H', W') in [0, 1]."""
        weights = [1.0] * len(styles) if weights is None else list(weights)
        if self.size is not None:
            content = ops.resize_long_side(content, self.size).clamp(0, 1)
        if all(isinstance(style, str) for style in styles):
            kind, style = "style", self.style_vector(list(zip(styles, weights)))[None]
        else:
            kind, style = "tables", self.mixed_tables(styles, weights)
        if self.tile is not None and max(content.shape[-2:]) > self.tile:
            return self.runner.run_in_tiles(content, kind, style, self.tile, self.thumbnail).clamp(0, 1)
        if kind == "style":
            return self.runner.run(content, style[0]).clamp(0, 1)
        return self.runner.run_tables(content, style).clamp(0, 1)

    def mixed_tables(self, styles: Sequence[str | torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
        """The flat tables (1, D) of a mix of named styles and paintings (3, h, w): the weighted mean of
        theirs (tables are linear in the style weights, so names mix exactly as in :meth:`style_vector`)."""
        if self.runner.network.predictor_config is None:
            raise OptionError(f"the model {self.folder} has no style predictor, so it takes only names of its styles "
                              f"({', '.join(self.names)}); use --method adain or gatys for a painting")
        if any(weight < 0 for weight in weights) or sum(weights) <= 0:
            raise OptionError("style weights must be >= 0 and not all zero")
        network = self.runner.network
        total = sum(weights)
        parts = [self.runner.painting_tables(style) if not isinstance(style, str) else
                 network.flatten_tables(network.tables(self.style_vector([(style, 1.0)])[None].to(self.runner.device)))
                 for style in styles]
        return sum(weight / total * part.cpu() for weight, part in zip(weights, parts))


def style_vector(names: Sequence[str], mix: Sequence[tuple[str, float]]) -> torch.Tensor:
    """The (S,) weight vector of a mix of named styles (see :func:`stylefuse.styles.style_weights`)."""
    return torch.from_numpy(style_weights(names, mix))


class _Runner:
    """A loaded ``fast_stylizer`` network and how it runs (PyTorch or ONNX Runtime)."""

    def __init__(self, folder: Path, backend: str, device: str) -> None:
        self.folder = folder
        self.network, self.document = load_model(folder)
        if self.document["network"] != "fast_stylizer":
            raise OptionError(f"{folder} holds a {self.document.get('method', 'unknown')} model, not a "
                              "multi-style one; give it with --model alone")
        self.device = torch.device(device)
        self.network.to(self.device)
        self.backend = backend
        self._sessions: dict[str, Any] = {}
        self.tables = ContentCache()
        """The predicted tables of paintings by content (its folder is set on first use: ``fast_tables`` in the
        cache folder, shared with the instant command line)."""
        self._painting_module: _PaintingTables | None = None
        self._digest: str | None = None
        self.predictions = 0
        """How many paintings the predictor encoded (cache misses)."""

    def run(self, rgb: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """(3, H, W) in [0, 1] and (S,) style weights -> (3, H, W) in [0, 1]; the image is padded to the
        network's stride and to a size its reflection paddings can handle, then cropped back."""
        return self._padded(rgb, lambda image: self._forward("style", image, style[None].float()))

    def run_tables(self, rgb: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        """Like :meth:`run` with flat tables (1, D) (``FastStylizerNet.flatten_tables``) for style weights."""
        return self._padded(rgb, lambda image: self._forward("tables", image, tables.float()))

    def _padded(self, rgb: torch.Tensor, forward: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        height, width = rgb.shape[-2:]
        image = ops.pad_to_multiple(rgb[None], self.network.stride, minimum=4 * self.network.stride, reflect=True)
        return forward(image)[0, :, :height, :width]

    def run_in_tiles(self, rgb: torch.Tensor, kind: str, style: torch.Tensor, tile: int,
                     thumbnail: int) -> torch.Tensor:
        """(3, H, W) in [0, 1] and (1, S) style weights (``kind`` "style") or (1, D) flat tables ("tables")
        -> (3, H, W), in tiles of ``tile`` pixels whose instance norms use the statistics of a
        ``thumbnail``-pixel copy (:func:`stylefuse.nn.thumbnail_norm.run_in_tiles`)."""
        from stylefuse.nn.thumbnail_norm import run_in_tiles

        network, style = self.network, style.float().to(self.device)

        def forward(images: torch.Tensor) -> torch.Tensor:
            batch = style.expand(images.shape[0], -1)
            if kind == "tables":
                return network.forward_tables(images.to(self.device), network.unflatten_tables(batch)).cpu()
            return network(images.to(self.device), batch).cpu()

        margin = 16 * network.stride  # about the receptive field of the residual blocks at 1/8 scale
        return run_in_tiles(forward, network, rgb[None], tile=tile, thumbnail=thumbnail, overlap=4 * network.stride,
                            margin=margin, multiple=network.stride)[0]

    def _forward(self, kind: str, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if self.backend == "onnxruntime":
            outputs = self._onnx_session(kind).run(None, {"image": image.numpy(), kind: style.numpy()})
            return torch.from_numpy(outputs[0])
        if kind == "tables":
            tables = self.network.unflatten_tables(style.to(self.device))
            return self.network.forward_tables(image.to(self.device), tables).cpu()
        return self.network(image.to(self.device), style.to(self.device)).cpu()

    @torch.no_grad()
    def painting_tables(self, painting: torch.Tensor) -> torch.Tensor:
        """The predicted flat tables (1, D) of a painting (3, h, w) in [0, 1]: from its VGG16 statistics at the
        predictor's style size; cached by the painting's values (in memory and in the cache folder), so a
        folder run with one painting encodes it once."""
        from stylefuse.fileutil import cache_dir

        if self.tables.folder is None:
            self.tables.folder = cache_dir() / TABLES_FOLDER
        key = f"{self.digest()}-{pixels_key(painting.cpu().numpy())}"
        arrays = self.tables.get(key, lambda: {"tables": self._predict(painting).cpu().contiguous().numpy()})
        return torch.from_numpy(arrays["tables"]).float()

    def _predict(self, painting: torch.Tensor) -> torch.Tensor:
        """The predictor's flat tables (1, D) for a painting (3, h, w): VGG16 up to its deepest layer on the
        painting at its style size, then the MLP; in ONNX Runtime with that backend (one graph, cached like the
        stylizer's), which runs VGG16 about twice as fast as PyTorch eager on a CPU."""
        image = ops.resize_long_side(painting, self.network.predictor.style_size).clamp(0, 1)[None]
        self.predictions += 1
        if self.backend == "onnxruntime":
            return torch.from_numpy(self._onnx_session("painting").run(None, {"painting": image.numpy()})[0])
        return self._painting_tables_module()(image.to(self.device))

    def _painting_tables_module(self) -> _PaintingTables:
        if self._painting_module is None:
            encoder = MultiLayerEncoder(self.network.predictor.layers).to(self.device)
            self._painting_module = _PaintingTables(encoder, self.network.predictor)
        return self._painting_module

    def digest(self) -> str:
        """A short hash of the weights file (keys the painting-table cache, like the ONNX cache)."""
        if self._digest is None:
            from stylefuse.onnx_runtime import weights_digest

            self._digest = weights_digest(self.folder / "model.safetensors")
        return self._digest

    def _onnx_session(self, kind: str):
        if kind not in self._sessions:
            from stylefuse.onnx_runtime import session

            self._sessions[kind] = session(self._onnx_bytes(kind), torch.get_num_threads())
        return self._sessions[kind]

    def _onnx_bytes(self, kind: str) -> bytes:
        """The network as ONNX (dynamic batch and size), exported once and cached by weights hash."""
        from stylefuse.onnx_runtime import cached_export

        return cached_export(FAST_EXPORTS[kind], self.folder / "model.safetensors",
                             lambda: onnx_bytes(self.export_graph(kind))).read_bytes()

    def export_graph(self, kind: str) -> ExportGraph:
        """The graph of one of :data:`~stylefuse.onnx_runtime.FAST_EXPORTS`' kinds: ``style`` (:meth:`graph`),
        ``tables`` (:meth:`tables_graph`) or ``painting`` (:meth:`painting_graph`)."""
        return {"style": self.graph, "tables": self.tables_graph, "painting": self.painting_graph}[kind]()

    def graph(self) -> ExportGraph:
        """The network as an :class:`ExportGraph`: image (B, 3, H, W) in [0, 1] with H, W multiples of the
        stride (at least 4 strides), style weights (B, S) summing to 1 -> stylized (B, 3, H, W) in [0, 1]."""
        network = self.network.cpu()
        example = (torch.rand(1, 3, 64, 64), torch.full((1, network.num_styles), 1.0 / network.num_styles))
        names = json.dumps(self.document.get("style_names") or [])
        return ExportGraph(network, example, ("image", "style"), {"image": IMAGE_AXES, "style": {0: "batch"}},
                           multiple=network.stride, metadata={"style_names": names, "minimum": str(4 * network.stride)})

    def tables_graph(self) -> ExportGraph:
        """The network with flat tables (B, D) for its style input (what a painting's prediction gives)."""
        network = self.network.cpu()
        example = (torch.rand(1, 3, 64, 64), network.flatten_tables(network.tables(
            torch.full((1, network.num_styles), 1.0 / network.num_styles))).detach())
        return ExportGraph(_TablesInput(network), example, ("image", "tables"),
                           {"image": IMAGE_AXES, "tables": {0: "batch"}}, multiple=network.stride,
                           metadata={"minimum": str(4 * network.stride)})

    def painting_graph(self) -> ExportGraph:
        """The style predictor with its VGG16 statistics: painting (1, 3, h, w) in [0, 1], already scaled to the
        predictor's style size (metadata ``style_size``) -> flat tables (1, D), as :meth:`painting_tables`."""
        module = self._painting_tables_module().cpu()
        side = str(self.network.predictor.style_size)
        return ExportGraph(module, (torch.rand(1, 3, 64, 64),), ("painting",), {"painting": IMAGE_AXES},
                           metadata={"style_size": side}, output_name="tables", output_axes={0: "batch"})


class _PaintingTables(nn.Module):
    """Paintings (B, 3, h, w) at the predictor's style size -> their predicted flat tables (B, D) (Ghiasi et al.
    2017): the encoder's features at the predictor's layers, their channel means and stds, the predictor
    (:mod:`stylefuse.nn.style_predictor`)."""

    def __init__(self, encoder: nn.Module, predictor: nn.Module) -> None:
        super().__init__()
        self.encoder, self.predictor = encoder, predictor

    def forward(self, painting: torch.Tensor) -> torch.Tensor:
        return self.predictor(self.predictor.batch_features(self.encoder(painting)))


class _TablesInput(nn.Module):
    """``FastStylizerNet.forward_tables`` with the tables flat, (B, D): one input for ONNX."""

    def __init__(self, network: FastStylizerNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        return self.network.forward_tables(image, self.network.unflatten_tables(tables))


EXPORT_PARTS = {"stylizer": "style", "tables": "tables", "predictor": "painting"}
"""The parts of a fast model folder ``stylefuse export --part`` writes, and their :data:`FAST_EXPORTS` kinds."""


@functools.lru_cache(maxsize=4)
def _load_runner(folder: str, backend: str, device: str) -> _Runner:
    """A model folder's network, loaded once per process and backend (mixes and folders reuse it)."""
    return _Runner(Path(folder), backend, device)


@dataclass
class FastRecipe:
    """Options of fast stylizer training.

    Args:
        size: training crop size in pixels.
        batch_size: photos per step (each paired with one style).
        style_size: long side the style images are scaled to before their Gram matrices are taken;
            relative to ``size`` it sets the scale of the learned strokes.
        content_weight (α), style_weight (β), tv_weight (γ): loss weights (relative errors).
        channels, blocks: the network's widths and residual blocks (see :class:`FastStylizerNet`).
        content_layers, style_layers: VGG16 layers (Johnson et al.: relu3_3; relu1_2..relu4_3).
        style_names: names of the styles, in the order of the style images (default: file names).
    """

    size: int = 256
    batch_size: int = 4
    style_size: int = 384
    content_weight: float = 1.0
    style_weight: float = 5.0
    tv_weight: float = 0.0
    channels: list[int] = field(default_factory=lambda: [16, 32, 64])
    blocks: int = 5
    content_layers: list[str] = field(default_factory=lambda: ["relu3_3"])
    style_layers: list[str] = field(default_factory=lambda: ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
    style_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_size(self.size, SizeRule(minimum=32, multiple=8))  # the network downsamples by 8
        check_at_least("batch_size", self.batch_size, 1)
        check_at_least("style_size", self.style_size, 16)
        check_at_least("blocks", self.blocks, 0)
        for name in ("content_weight", "style_weight", "tv_weight"):
            check_at_least(name, getattr(self, name), 0)


def style_name_from_path(path: Path) -> str:
    """A friendly style name from a file name: lower case, words joined by hyphens."""
    return "-".join(path.stem.lower().replace("_", " ").split())


def expand_style_inputs(inputs: list[Path] | Path | None) -> list[Path]:
    """Style images given as files and/or folders (every image of a folder, sorted)."""
    if inputs is None:
        return []
    paths: list[Path] = []
    for item in [inputs] if isinstance(inputs, Path) else inputs:
        if item.is_dir():
            paths += list_image_files(item)
        elif item.is_file():
            paths.append(item)
        else:
            raise DatasetError(f"style image {item} does not exist")
    return paths


@TRAINABLE.register("fast")
class FastStyle(TrainableMethod):
    """A multi-style feed-forward stylizer; batches are ``(photos (B,3,S,S), style indices (B,))``."""

    method_name = "fast"
    network_name = "fast_stylizer"
    recipe_class = FastRecipe
    data_folders = ("data", "style")
    default_lr = 1e-3
    default_betas = (0.9, 0.999)

    def __init__(self, recipe: FastRecipe | None = None, num_styles: int | None = None) -> None:
        self.recipe = recipe = recipe or FastRecipe()
        num_styles = num_styles or max(1, len(recipe.style_names))
        self.network_config = dict(num_styles=num_styles, channels=list(recipe.channels), blocks=recipe.blocks)
        self.generators = nn.ModuleDict({"G": FastStylizerNet(**self.network_config)})
        self.encoder = MultiLayerEncoder(list(recipe.content_layers) + list(recipe.style_layers))
        self.style_grams: dict[str, torch.Tensor] = {}
        self.style_statistics: style_statistics.Descriptor | None = None
        """Each style's feature means and stds, saved with the model (see :mod:`.style_statistics`)."""
        self.style_names: list[str] = list(recipe.style_names)
        self.style_sources: list[str] = []

    # --- data ----------------------------------------------------------------------------------------

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """Load the style images (``folders["style"]``: files or folders), compute their Gram targets,
        and return ``batches(step)`` over crops of the photos in ``folders["data"]``."""
        paths = expand_style_inputs(folders.get("style"))
        if not paths:
            raise OptionError("fast training needs at least one --style image")
        styles = [read_image(path).rgb for path in paths]
        self.set_styles(styles, list(self.recipe.style_names) or [style_name_from_path(p) for p in paths])
        self.style_sources = [path.name for path in paths]
        photos = ImageFolder(folders["data"], max_side=2 * self.recipe.size, report=report)
        crops = UnpairedCrops([photos], self.recipe.size, self.recipe.batch_size, seed)
        count, batch_size = len(styles), self.recipe.batch_size

        def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            indices = (torch.arange(batch_size) + step * batch_size) % count
            return crops(step)[0], indices

        return batches

    @torch.no_grad()
    def set_styles(self, styles: list[torch.Tensor], names: list[str]) -> None:
        """Compute the Gram targets of ``styles`` (each (3, H, W) in [0, 1]) at ``style_size``; a network
        with a different number of style slots is rebuilt (call this before training starts)."""
        if len(styles) != self.generators["G"].num_styles:
            self.network_config["num_styles"] = len(styles)
            self.generators["G"] = FastStylizerNet(**self.network_config)
        if len(names) != len(styles) or len(set(names)) != len(names):
            raise OptionError(f"give one distinct name per style image ({len(styles)}), got {names}")
        targets = [self.style_targets(style) for style in styles]
        self.style_grams = {name: torch.stack([grams[name] for grams, _ in targets]) for name in targets[0][0]}
        self.style_statistics = style_statistics.stack([descriptor for _, descriptor in targets])
        self.style_names = list(names)

    @torch.no_grad()
    def style_targets(self, style: torch.Tensor) -> tuple[dict[str, torch.Tensor], style_statistics.Descriptor]:
        """The Gram matrices {layer: (C, C)} and the descriptor of one style image (3, H, W), encoded
        at ``style_size``."""
        features = self.encoder(ops.resize_long_side(style, self.recipe.style_size)[None], self.recipe.style_layers)
        return {name: LF.gram_matrix(value)[0] for name, value in features.items()}, style_statistics.describe(features)

    # --- losses --------------------------------------------------------------------------------------

    @torch.no_grad()
    def photo_features(self, photos: torch.Tensor) -> dict[str, torch.Tensor]:
        """The content targets of ``photos`` (B, 3, H, W): their features at ``content_layers``."""
        return self.encoder(photos, self.recipe.content_layers)

    def perceptual_terms(self, photos: torch.Tensor, outputs: torch.Tensor,
                         indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Relative content error to ``photos`` and relative Gram error to each item's style."""
        photo_features = self.photo_features(photos)
        features = self.encoder(outputs)
        content = LF.relative_content_loss(features, photo_features)
        style = outputs.new_zeros(())
        for name, grams in self.style_grams.items():
            target = grams[indices.to(grams.device)].to(outputs)  # indexed first: tables may be large and bfloat16
            style = style + LF.relative_gram_error(features[name], target).mean()
        return {"content": content, "style": style / len(self.style_grams)}

    def generator_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        photos, indices = batch
        if not self.style_grams:
            raise RuntimeError("call make_batches() or set_styles() first")
        network: FastStylizerNet = self.generators["G"]
        outputs = network(photos, nn.functional.one_hot(indices, network.num_styles).float())
        return self.weighted_terms(outputs, self.perceptual_terms(photos, outputs, indices))

    def weighted_terms(self, outputs: torch.Tensor, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The loss terms α·content, β·style and γ·TV of ``outputs`` and their ``"total"``."""
        recipe = self.recipe
        terms = {"content": recipe.content_weight * terms["content"], "style": recipe.style_weight * terms["style"],
                 "tv": recipe.tv_weight * LF.total_variation(outputs) if recipe.tv_weight else outputs.new_zeros(())}
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    def validation_value(self, terms: dict[str, torch.Tensor]) -> float:
        """α·content + β·style of :meth:`perceptual_terms` (the number validation compares)."""
        return (self.recipe.content_weight * terms["content"] + self.recipe.style_weight * terms["style"]).item()

    def validation_metric(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> float:
        """α·content + β·style on held-out crops."""
        photos, indices = batch
        outputs = generator(photos, nn.functional.one_hot(indices, generator.num_styles).float())
        return self.validation_value(self.perceptual_terms(photos, outputs, indices))

    def samples(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> torch.Tensor:
        """The first photo in every style: photo, then one output per style."""
        photo = batch[0][:1]
        styles = torch.eye(generator.num_styles)
        outputs = generator(photo.expand(generator.num_styles, -1, -1, -1), styles)
        return torch.cat([photo, outputs])

    def export(self, trainer, folder, extra=None):
        folder = super().export(trainer, folder, {"encoder": ENCODER_ID, "value_range": "[0, 1]",
                                                  "style_names": self.style_names, "style_sources": self.style_sources,
                                                  **(extra or {})})
        if self.style_statistics is not None:
            style_statistics.save_statistics(folder, self.style_statistics)
        return folder
