"""An output-space ensemble of K model folders: each member stylizes the photo, and the results are blended,
either by a weighted mean or by a Laplacian pyramid that takes the coarse bands (layout, colour) from the
first member and the fine bands (strokes, texture) from the second (multiresolution blending, Burt &
Adelson 1983). Members need not share a network, only what they take as styles.

The folder (``stylefuse fuse --mode ensemble``) holds copies of its members under ``members/`` (it moves as one
piece) and their weights as its ``model.safetensors``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

import torch

from stylefuse.errors import FusionError, OptionError
from stylefuse.fusion import sources
from stylefuse.hub import CONFIG_FILE, WEIGHTS_FILE, load_model, read_config, save_model
from stylefuse.image import laplacian, ops
from stylefuse.methods._base import NO_STYLE, STYLE_NAMES, Stylizer
from stylefuse.nn.mixing import MemberWeights
from stylefuse.registry import METHODS

COMBINES = ("mean", "pyramid")
OWN_STYLES = "(each member's own style)"
"""The style an ensemble of named-style models runs when none is given: each member its own default."""
MEMBER_FILES = (CONFIG_FILE, WEIGHTS_FILE, "style_statistics.safetensors")


@METHODS.register("ensemble")
class EnsembleStylizer(Stylizer):
    """An ensemble of model folders blended in output space (weighted mean or coarse/fine pyramid bands).

    Args:
        model: an ensemble model folder (``stylefuse fuse --mode ensemble``).
        combine: "mean" (weighted mean of the outputs) or "pyramid" (coarse bands from the first member,
            the ``fine_bands`` finest from the second); None: the folder's.
        fine_bands: pyramid: how many of the finest Laplacian bands come from the second member.
        weights: one weight per member, replacing the folder's.
        device: "cpu" or "cuda".
    """

    style_input = NO_STYLE
    """Set per folder: what its members take."""

    def __init__(self, model: str | Path, combine: str | None = None, fine_bands: int | None = None,
                 weights: list[float] | None = None, device: str = "cpu") -> None:
        from stylefuse import hub
        from stylefuse.fusion.models import normalized_weights

        self.folder = Path(model)
        self.network, self.document = load_model(self.folder)
        recorded = self.document["fusion"]
        self.combine = combine or recorded["combine"]
        self.fine_bands = recorded["fine_bands"] if fine_bands is None else fine_bands
        check_combine(self.combine, self.fine_bands, len(recorded["members"]))
        self.members = [hub.load(self.folder / member, device=device) for member in recorded["members"]]
        if weights:
            self.network.weights.copy_(torch.tensor(normalized_weights(weights, len(self.members))))
        self.style_input = _check_style_kinds({member: stylizer.style_input
                                               for member, stylizer in zip(recorded["members"], self.members)})
        self.names = list(self.document.get("style_names") or [])

    @classmethod
    def from_folder(cls, folder: Path, document: dict[str, Any], **options: Any) -> EnsembleStylizer:
        return cls(model=folder, **options)

    def default_styles(self) -> list[tuple[Any, float]]:
        return [(OWN_STYLES, 1.0)] if self.style_input == STYLE_NAMES else []

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, styles: Sequence[Any],
                weights: Sequence[float] | None = None) -> torch.Tensor:
        """Every member on ``content`` (3, H, W) with the same ``styles``, blended; (3, H', W') in [0, 1]."""
        outputs = []
        own = self.style_input == STYLE_NAMES and list(styles) == [OWN_STYLES]
        for member in self.members:
            pairs = member.default_styles() if own else list(zip(styles, weights or [1.0] * len(styles)))
            result = member.stylize(content, [name for name, _ in pairs], [weight for _, weight in pairs])
            outputs.append(result if not outputs else ops.resize(result, tuple(outputs[0].shape[-2:])))
        stack = torch.stack(outputs)
        if self.combine == "mean":
            mixed = self.network(stack)
        else:
            mixed = band_swap(stack[0], stack[1], self.fine_bands)
        return mixed.clamp(0, 1)


def band_swap(coarse: torch.Tensor, fine: torch.Tensor, fine_bands: int) -> torch.Tensor:
    """The Laplacian pyramid of ``coarse`` (C, H, W) with its ``fine_bands`` finest bands taken from ``fine``
    (C, H, W): layout and colour of one image, texture of the other (Burt & Adelson 1983)."""
    levels = max(laplacian.pyramid_levels(*coarse.shape[-2:]), fine_bands + 1)
    bands = laplacian.decompose(coarse[None], levels)
    detail = laplacian.decompose(fine[None], levels)
    return laplacian.synthesize(detail[:fine_bands] + bands[fine_bands:])[0]


def _own_sources(folder: Path, document: dict[str, Any]) -> sources.Entry:
    """The sources of the style a member runs by itself: its default style's, or all it records."""
    from stylefuse import hub

    names = document.get("style_names") or []
    if names:
        try:
            own = hub.load(folder).default_styles()[0][0]
        except OptionError:  # several styles and no default
            return sources.merge(sources.aligned(document, len(names)))
        return sources.aligned(document, len(names))[names.index(own)]
    return sources.merge(document.get("style_sources") or [])


def _check_style_kinds(kinds: dict[str, str]) -> str:
    """The one kind of style ({member: style_input}) every member takes; a one-line error when they differ."""
    if len(set(kinds.values())) != 1:
        listed = ", ".join(f"{member}: {kind}" for member, kind in kinds.items())
        raise FusionError(f"the members take different kinds of style ({listed}); an ensemble gives every member "
                          "the same styles")
    return next(iter(kinds.values()))


def check_combine(combine: str, fine_bands: int, members: int) -> None:
    """Refuse an unknown ``combine``, a pyramid over other than two members, or ``fine_bands`` < 1."""
    if combine not in COMBINES:
        raise OptionError(f"unknown combine {combine!r}; choose from {', '.join(COMBINES)}")
    if combine == "pyramid" and (members != 2 or fine_bands < 1):
        raise OptionError(f"a pyramid ensemble takes two members (coarse bands from the first, fine from the "
                          f"second) and fine_bands >= 1; got {members} members, fine_bands {fine_bands}")


def copy_member(folder: Path, target: Path) -> Path:
    """Copy the files of model folder ``folder`` that loading it needs (:data:`MEMBER_FILES`) into ``target``,
    so that a composed folder moves as one piece."""
    target.mkdir(parents=True, exist_ok=True)
    for name in MEMBER_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, target / name)
    return target


def save_ensemble(folders: Sequence[Path], out: Path, weights: list[float], combine: str = "mean",
                  fine_bands: int = 2) -> Path:
    """Write an ensemble model folder: copies of the member folders under ``members/<i>/`` and their weights;
    the folder appears complete at once (written beside ``out``, then renamed).

    Args:
        folders: the members' model folders (any method :func:`stylefuse.hub.load` reads).
        weights: one per member, summing to 1 (used by ``combine="mean"``).
        combine, fine_bands: see :class:`EnsembleStylizer`.
    """
    from stylefuse import hub
    from stylefuse.fusion import lineage

    check_combine(combine, fine_bands, len(folders))
    documents = [read_config(folder) for folder in folders]
    _check_style_kinds({str(folder): hub.load(folder).style_input for folder in folders})
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    members = []
    for index, folder in enumerate(folders):
        copy_member(folder, staging / "members" / str(index))
        members.append(f"members/{index}")
    network = MemberWeights(len(folders))
    network.weights.copy_(torch.tensor(weights))
    names = [document.get("style_names") for document in documents]
    if names[0] and all(item == names[0] for item in names):
        columns = zip(*(sources.aligned(document, len(names[0])) for document in documents))
        shared = {"style_names": names[0], "style_sources": [sources.merge(column) for column in columns]}
    else:  # each member runs its own style: the ensemble's paintings are all of theirs
        shared = {"style_sources": [sources.merge(_own_sources(folder, document)
                                                  for folder, document in zip(folders, documents))]}
    extra = {"method": "ensemble", **shared, **lineage.derived_from(*folders),
             "fusion": {"mode": "ensemble", "combine": combine, "fine_bands": fine_bands, "members": members,
                        "sources": [str(folder) for folder in folders]}}
    save_model(network, staging, "member_weights", {"members": len(folders)}, extra=extra, half=False)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out
