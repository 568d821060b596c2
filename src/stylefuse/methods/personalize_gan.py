"""Personalising a trained GAN generator (cyclegan or adversarial_style model folder) to a new style
from a few images: fine-tune G with the adversarial style objective α·content + β·style + λ·adversarial
while the discriminator's lower layers stay frozen (FreezeD, Mo et al. 2020: they hold generic
features, and freezing them keeps a small-data discriminator from overfitting) and its inputs are
augmented (DiffAugment, Zhao et al. 2020). Early stopping on the α·content + β·style of held-out photos.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.data.folders import ImageFolder, UnpairedCrops
from stylefuse.errors import OptionError
from stylefuse.fusion import sources
from stylefuse.fusion.lineage import derived_from
from stylefuse.hub import load_model
from stylefuse.methods._trainable import fit_and_export
from stylefuse.methods.adversarial_style import AdversarialStyle, AdversarialStyleRecipe
from stylefuse.nn.generators import ResnetGenerator

GAN_STRATEGIES = {
    "last-layers": "the generator's last upsampling block and output convolution",
    "decoder": "the generator's upsampling blocks and output convolution",
    "all": "every generator parameter",
}
"""What each strategy trains in the generator; the discriminator trains all but its frozen layers."""


def generator_parts(generator: ResnetGenerator, strategy: str) -> list[nn.Module]:
    """The modules of a ResNet generator that a strategy trains (its ``net`` is encoder, residual
    blocks, then two upsampling stages of three modules each and the output conv + tanh)."""
    layers = list(generator.net)
    if strategy == "all":
        return layers
    if strategy == "decoder":
        return layers[-8:]
    return layers[-5:]


def freeze_lower_layers(discriminator: nn.Module, count: int) -> int:
    """Freeze the first ``count`` convolutions of a discriminator (FreezeD); return how many were frozen."""
    convolutions = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    for conv in convolutions[:count]:
        conv.requires_grad_(False)
    return min(count, len(convolutions))


def personalize_gan(style_images: list[Path], out: Path, base: Path, data: Path, strategy: str = "decoder",
                    steps: int = 300, size: int = 128, batch_size: int = 4, lr: float | None = None,
                    frozen_d_layers: int = 2, validate_every: int = 50, patience: int = 4,
                    max_minutes: float | None = None, seed: int = 0, progress: bool = True, overwrite: bool = False,
                    device: str = "cpu",
                    report: Callable[[str], None] = print) -> dict[str, Any]:
    """Fine-tune the generator of the GAN model folder ``base`` to the style of ``style_images``; write
    a model folder to ``out`` (usable with ``stylefuse stylize --model`` / ``translate``)."""
    from stylefuse.train.checkpoint import load_checkpoint
    from stylefuse.train.loop import TrainOptions

    if strategy not in GAN_STRATEGIES:
        raise OptionError(f"a GAN generator has no conditional norm; choose --freeze from {', '.join(GAN_STRATEGIES)}")
    generator, document = load_model(base)
    if document["network"] != "resnet_generator":
        raise OptionError(f"{base} holds a {document['network']}; GAN personalisation fine-tunes ResNet generators "
                          "(cyclegan with the resnet generator, adversarial_style)")
    torch.manual_seed(seed)
    config = document["config"]
    recipe = AdversarialStyleRecipe(size=size, batch_size=batch_size, blocks=config.get("blocks", 9),
                                    base=config.get("base", 64), diff_augment="color,translation,cutout")
    task = AdversarialStyle(recipe)
    task.generators["G"].load_state_dict(generator.state_dict())
    _load_discriminator(task, base, report, load_checkpoint)
    frozen = freeze_lower_layers(task.discriminators["D"], frozen_d_layers)
    task.generators["G"].requires_grad_(False)
    for module in generator_parts(task.generators["G"], strategy):
        module.requires_grad_(True)
    trained = sum(p.numel() for p in task.generators["G"].parameters() if p.requires_grad)
    total = sum(p.numel() for p in task.generators["G"].parameters())
    report(f"training {trained:,} of {total:,} generator parameters ({100 * trained / total:.1f}%): {strategy} = "
           f"{GAN_STRATEGIES[strategy]}; discriminator: first {frozen} convolutions frozen (FreezeD)")
    photos = ImageFolder(data, max_side=2 * size, report=report)
    styles = ImageFolder(list(style_images), max_side=2 * size, report=report)
    batches = UnpairedCrops([photos, styles], size, batch_size, seed)
    options = TrainOptions(steps=steps, lr=1e-4 if lr is None else lr, checkpoint_every=100, sample_every=100,
                           validate_every=validate_every, patience=patience if validate_every else 0, seed=seed,
                           progress=progress, max_seconds=max_minutes * 60 if max_minutes else None,
                           overwrite=overwrite, device=device)
    return fit_and_export(task, batches, options, out, validate=task.validator(batches) if validate_every else None,
                          extra={"base": str(base), "strategy": strategy, "trained_parameters": trained,
                                 "style_sources": [sources.entry(style_images)],
                                 "style_files": sources.files_record(style_images), **derived_from(base)})


def _load_discriminator(task: AdversarialStyle, base: Path, report, load_checkpoint) -> None:
    """Start D from the base run's discriminator (``D`` of adversarial_style, ``D_b`` of cyclegan) when
    its checkpoint is in the model folder and fits; otherwise D starts fresh."""
    if not (Path(base) / "checkpoint.pt").is_file():
        report("note: the base folder has no checkpoint.pt, so the discriminator starts from scratch")
        return
    state = load_checkpoint(base)["discriminators"]
    for prefix in ("D.", "D_b."):
        weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if weights:
            try:
                task.discriminators["D"].load_state_dict(weights)
                return
            except RuntimeError:
                break
    report("note: the base discriminator does not fit; it starts from scratch")
