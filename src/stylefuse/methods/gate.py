"""A learned hybrid of K frozen stylizers: a small gating network (:class:`stylefuse.nn.gate.MemberGate`)
routes every pixel to a mix of the members' outputs (a spatial mixture of experts, Jacobs et al. 1991),
trained with the fast network's perceptual loss (Johnson et al. 2016): ``stylefuse train gate --models A B C
--data photos/ --out DIR``.

Members are model folders that stylize a photo on their own (fast or personalised folders with their
default style, generator folders) or built-in styles named ``builtin:NAME``. Their outputs are computed
without gradients: only the gate learns.

The objective on a photo p, with member outputs y_1..y_K and the gate's result x:
``α·content(x, p) + β·style(x, mean_k Gram(y_k))``, the relative VGG16 feature error at ``content_layers``
and the relative Gram error at ``style_layers``, as in ``stylefuse train fast``. The style target is the
union of the members' targets taken from their own outputs on that photo: the mean of their Gram matrices
(any member has outputs; generator folders have no style image). The Gram matrix of a picture made of
regions is the area-weighted mean of the regions' Gram matrices, so routing each region to one member
meets that target, where blending outputs pixel by pixel washes textures out; the content term decides
which member a region goes to.

The folder holds copies of its members under ``members/`` (it moves as one piece) and records which
style each runs and the union of their ``style_sources``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.encoders.vgg import ENCODER_ID, MultiLayerEncoder
from stylefuse.errors import FusionError, OptionError
from stylefuse.fusion import sources
from stylefuse.hub import load_model, read_config
from stylefuse.image import ops
from stylefuse.losses import functional as LF
from stylefuse.methods._base import NO_STYLE, STYLE_NAMES, Stylizer
from stylefuse.methods._trainable import TrainableMethod
from stylefuse.nn.gate import MemberGate
from stylefuse.registry import METHODS, TRAINABLE
from stylefuse.train.recipes import SizeRule, check_at_least, check_size

BUILTIN_PREFIX = "builtin:"
"""A member named ``builtin:NAME`` is the built-in multi-style model running its style NAME."""


@dataclass
class Member:
    """A frozen member: its model folder, the named style it runs (None: none, or the folder's own) and its
    stylizer."""

    folder: Path
    style: str | None
    stylizer: Stylizer

    @torch.no_grad()
    def run(self, content: torch.Tensor) -> torch.Tensor:
        """The member's result on ``content`` (3, H, W) in [0, 1], at the content's size."""
        styles = [self.style] if self.style is not None else []
        result = self.stylizer.stylize(content, styles)
        if result.shape[-2:] != content.shape[-2:]:
            result = ops.resize(result, tuple(content.shape[-2:]))
        return result.clamp(0, 1)

    def style_sources(self) -> list[str]:
        """The style images this member was trained from: its style's source, or all its folder records."""
        document = read_config(self.folder)
        names = document.get("style_names") or []
        if self.style is not None and names:
            return sources.file_names(sources.aligned(document, len(names))[names.index(self.style)])
        return sources.file_names(sources.merge(document.get("style_sources") or []))


def resolve_member(spec: str | Path) -> tuple[Path, str | None]:
    """(model folder, named style) of a member as the user names it: ``builtin:NAME`` or a model folder."""
    from stylefuse.builtin import STYLES_FOLDER, builtin_style_names

    text = str(spec)
    if text.startswith(BUILTIN_PREFIX):
        name = text[len(BUILTIN_PREFIX):]
        if name not in builtin_style_names():
            raise OptionError(f"{text}: no built-in style {name!r}; known: {', '.join(builtin_style_names())}")
        return STYLES_FOLDER, name
    return Path(text), None


def load_member(folder: Path, style: str | None, device: str = "cpu") -> Member:
    """A member's stylizer (through :func:`stylefuse.hub.load`), with the style it runs fixed: a named-style
    folder without ``style`` runs its own default style."""
    from stylefuse import hub

    stylizer = hub.load(folder, device=device)
    if stylizer.style_input == STYLE_NAMES:
        if style is None:
            style = stylizer.default_styles()[0][0]
        elif style not in stylizer.names:
            raise OptionError(f"{folder} has no style {style!r}")
    elif stylizer.style_input != NO_STYLE:
        raise FusionError(f"{folder} needs a style image to run; a gate member must stylize a photo on its own "
                          "(a fast, personalised or generator model folder, or builtin:NAME)")
    elif style is not None:
        raise FusionError(f"{folder} has its style built in; name it without a style")
    return Member(folder, style, stylizer)


def member_outputs(members: Sequence[Member], photos: torch.Tensor) -> torch.Tensor:
    """Every member on every photo (B, 3, H, W): (B, K, 3, H, W), without gradients."""
    return torch.stack([torch.stack([member.run(photo) for member in members]) for photo in photos])


@METHODS.register("gate")
class GateStylizer(Stylizer):
    """A learned per-pixel mix of K frozen stylizers (``stylefuse train gate``); its style is its members'.

    Args:
        model: a gate model folder.
        device: "cpu" or "cuda".
    """

    style_input = NO_STYLE

    def __init__(self, model: str | Path, device: str = "cpu") -> None:
        self.folder = Path(model)
        self.network, self.document = load_model(self.folder)
        self.network.to(device)
        self.device = torch.device(device)
        self.members = [load_member(self.folder / item["folder"], item["style"], device)
                        for item in self.document["gate"]["members"]]

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> GateStylizer:
        return cls(model=folder, **options)

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, styles: Sequence[Any] = (),
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """The gate's mix of the members' results on ``content`` (3, H, W) in [0, 1]; (3, H, W)."""
        if styles:
            raise OptionError("a gate model runs its members' own styles; drop --style")
        outputs = member_outputs(self.members, content[None]).to(self.device)
        return self.network(content[None].to(self.device), outputs)[0].clamp(0, 1).cpu()

    @torch.no_grad()
    def gate_map(self, content: torch.Tensor) -> torch.Tensor:
        """The members' weights at every pixel of ``content`` (3, H, W): (K, H, W), summing to 1 over K."""
        outputs = member_outputs(self.members, content[None]).to(self.device)
        return self.network.weights(content[None].to(self.device), outputs)[0].cpu()


GATE_COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.6, 0.9], [0.2, 0.8, 0.2], [0.95, 0.8, 0.1],
                             [0.6, 0.2, 0.8], [0.1, 0.8, 0.8], [0.9, 0.5, 0.1], [0.5, 0.5, 0.5]])
"""One colour per member in a gate map picture (more members reuse them)."""


def gate_picture(weights: torch.Tensor) -> torch.Tensor:
    """A picture of a gate map (K, H, W), (3, H, W): each pixel in the colour of its strongest member, faded to
    white as its weight falls to the uniform 1/K (white: an even blend; full colour: that member alone)."""
    members = weights.shape[0]
    colours = GATE_COLOURS[torch.arange(members) % len(GATE_COLOURS)]
    strongest, index = weights.max(0)
    confidence = ((strongest - 1 / members) / (1 - 1 / members)).clamp(0, 1)[None]
    return colours[index].permute(2, 0, 1) * confidence + (1 - confidence)


@dataclass
class GateRecipe:
    """Options of gate training.

    Args:
        size: training crop size in pixels.
        batch_size: photos per step.
        content_weight (α), style_weight (β): loss weights (relative errors, as ``stylefuse train fast``).
        channels, layers, scale: the gate network's width, number of 3x3 convolutions and working scale
            (see :class:`MemberGate`).
        content_layers, style_layers: VGG16 layers of the two terms (those of ``stylefuse train fast``).
        members: the members as given (``--models``); filled in by training.
    """

    size: int = 128
    batch_size: int = 4
    content_weight: float = 1.0
    style_weight: float = 5.0
    channels: int = 32
    layers: int = 4
    scale: int = 4
    content_layers: list[str] = field(default_factory=lambda: ["relu3_3"])
    style_layers: list[str] = field(default_factory=lambda: ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
    members: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_size(self.size, SizeRule(minimum=32, multiple=8))
        minimums = {"batch_size": 1, "content_weight": 0, "style_weight": 0, "channels": 1, "layers": 2, "scale": 1}
        for name, minimum in minimums.items():
            check_at_least(name, getattr(self, name), minimum)


@TRAINABLE.register("gate")
class GateTraining(TrainableMethod):
    """A per-pixel gate over frozen stylizers; batches are ``(photos (B,3,S,S), member outputs (B,K,3,S,S))``."""

    method_name = "gate"
    network_name = "member_gate"
    recipe_class = GateRecipe
    data_folders = ("models", "data")
    default_lr = 1e-3
    default_betas = (0.9, 0.999)

    def __init__(self, recipe: GateRecipe | None = None) -> None:
        self.recipe = recipe = recipe or GateRecipe()
        self._build(max(2, len(recipe.members)))
        self.encoder = MultiLayerEncoder(list(recipe.content_layers) + list(recipe.style_layers))
        self.members: list[Member] = []

    def _build(self, members: int) -> None:
        recipe = self.recipe
        self.network_config = dict(members=members, channels=recipe.channels, layers=recipe.layers,
                                   scale=recipe.scale)
        self.generators = nn.ModuleDict({"G": MemberGate(**self.network_config)})

    def set_members(self, specs: Sequence[str | Path]) -> None:
        """Load the members (see :func:`resolve_member`); the gate is rebuilt for their number (call this before
        training starts)."""
        if len(specs) < 2:
            raise OptionError(f"a gate needs at least two --models, got {len(specs)}")
        self.members = [load_member(*resolve_member(spec)) for spec in specs]
        self.recipe.members = [str(spec) for spec in specs]
        if len(specs) != self.network_config["members"]:
            self._build(len(specs))

    def make_batches(self, folders: dict[str, Any], seed: int = 0,
                     report: Callable[[str], None] | None = None) -> Callable[[int], Any]:
        """Load the members (``folders["models"]``) and return ``batches(step)`` over crops of the photos in
        ``folders["data"]`` (a folder or a list of image files) with the members' outputs on them."""
        self.set_members(list(folders.get("models") or []))
        data = folders.get("data")
        if data is None:
            raise OptionError("--data is required")
        source = [Path(item) for item in data] if isinstance(data, (list, tuple)) else Path(data)
        photos = ImageFolder(source, max_side=2 * self.recipe.size, report=report)
        crops = UnpairedCrops([photos], self.recipe.size, self.recipe.batch_size, seed)

        def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            images = crops(step)[0]
            return images, member_outputs(self.members, images)

        return batches

    def objective(self, photos: torch.Tensor, outputs: torch.Tensor, result: torch.Tensor) -> dict[str, torch.Tensor]:
        """The weighted terms ``content``, ``style`` and their sum ``total`` of ``result`` (B, 3, H, W) on
        ``photos`` (B, 3, H, W) with member outputs (B, K, 3, H, W) (see the module); differentiable in
        ``result`` only. Any picture can be scored: a member's output, a blend, the gate's."""
        recipe = self.recipe
        with torch.no_grad():
            content_targets = self.encoder(photos, recipe.content_layers)
            member_features = self.encoder(outputs.flatten(0, 1), recipe.style_layers)
            style_targets = {name: LF.gram_matrix(value).unflatten(0, outputs.shape[:2]).mean(1)
                             for name, value in member_features.items()}
        features = self.encoder(result)
        content = LF.relative_content_loss(features, content_targets)
        style = sum(LF.relative_gram_error(features[name], target).mean() for name, target in style_targets.items())
        terms = {"content": recipe.content_weight * content,
                 "style": recipe.style_weight * style / len(style_targets)}
        terms["total"] = terms["content"] + terms["style"]
        return terms

    def generator_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        photos, outputs = batch
        return self.objective(photos, outputs, self.generators["G"](photos, outputs))

    def validation_metric(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> float:
        """The training objective on held-out crops."""
        photos, outputs = batch
        return self.objective(photos, outputs, generator(photos, outputs))["total"].item()

    def samples(self, batch: tuple[torch.Tensor, torch.Tensor], generator: nn.Module) -> torch.Tensor:
        """The first photo, each member's result, the gate's result and its gate map."""
        photos, outputs = batch[0][:1], batch[1][:1]
        picture = gate_picture(generator.weights(photos, outputs)[0])[None]
        return torch.cat([photos, outputs[0], generator(photos, outputs), picture])

    def export(self, trainer, folder, extra=None):
        from stylefuse.methods.ensemble import copy_member

        folder = Path(folder)
        copies: dict[Path, str] = {}
        for member in self.members:  # built-in styles share one copy of the built-in model
            key = member.folder.resolve()
            if key not in copies:
                copies[key] = f"members/{len(copies)}"
                copy_member(member.folder, folder / copies[key])
        records = [{"folder": copies[member.folder.resolve()], "style": member.style, "source": spec}
                   for member, spec in zip(self.members, self.recipe.members)]
        files = list(dict.fromkeys(file for member in self.members for file in member.style_sources()))
        return super().export(trainer, folder, {"encoder": ENCODER_ID, "value_range": "[0, 1]",
                                                "style_sources": files, "gate": {"members": records},
                                                **(extra or {})})
