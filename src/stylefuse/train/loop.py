"""The one training loop, used by every trainable method (GANs, feed-forward stylizers, inverters).

A method supplies a :class:`TrainingTask` (its networks and losses); the loop owns everything else:
alternating D/G phases with Adam (a task without discriminators has only the G phase), the linear LR
decay, EMA of the generator, AMP on CUDA, a guard that
skips non-finite steps, TensorBoard scalars (``metrics.jsonl`` always), sample grids, a progress bar,
atomic checkpoints that resume exactly, Ctrl-C that saves, and early stopping on a validation metric.

Exact resumption needs every batch to be a function of the step alone: ``batches(step)`` must not
draw from the global RNG (the datasets in :mod:`stylefuse.data` seed a generator per step). Global
RNG states (dropout, pools, DiffAugment) are saved in the checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.errors import OptionError, StylefuseError
from stylefuse.progress import progress_bar
from stylefuse.train.augment import ema_update, linear_decay, make_ema
from stylefuse.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state

Batch = Any


class TrainingTask(ABC):
    """The method-specific part of training.

    Attributes:
        generators: trained by the generator optimiser (e.g. ``{"G": ...}`` or ``{"G_ab", "G_ba"}``).
        discriminators: trained by the discriminator optimiser; empty for non-adversarial tasks.
        ema_generator: the key in ``generators`` whose weights are averaged (None: no EMA).
    """

    generators: nn.ModuleDict
    discriminators: nn.ModuleDict = nn.ModuleDict()
    ema_generator: str | None = "G"

    def discriminator_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms for the discriminators; ``"total"`` is minimised (only tasks with discriminators)."""
        raise NotImplementedError(f"{type(self).__name__} has no discriminators")

    @abstractmethod
    def generator_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Loss terms for the generators; ``"total"`` is minimised."""

    @abstractmethod
    def samples(self, batch: Batch, generator: nn.Module) -> torch.Tensor:
        """Images (N, 3, H, W) in [0, 1] to show how training goes (inputs beside outputs)."""

    def extra_state(self) -> dict[str, Any]:
        """Task state beyond the networks (image pools) to put in checkpoints."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore :meth:`extra_state`."""


@dataclass
class TrainOptions:
    """Settings of :class:`Trainer`.

    Args:
        steps: total training steps (one D and one G update each).
        lr, betas: Adam settings (Radford et al. 2016 defaults for GANs); ``lr`` is L-BFGS's step scale.
        optimizer: "adam", or "lbfgs" (a quasi-Newton step per training step, Liu & Nocedal 1989, for
            tasks without discriminators whose batches are one fixed set: a deterministic objective over
            few parameters, as in norm-only personalisation).
        decay_from: fraction of ``steps`` after which the LR decays linearly to 0.
        ema_decay: EMA decay of the generator weights (None disables).
        checkpoint_every, sample_every, log_every: intervals in steps (0 disables checkpoints/samples).
        validate_every, patience: early stopping: validate every N steps and after the last, stop after ``patience``
            validations without improvement (0 disables).
        max_seconds: stop after this much training time (a time budget; time spent validating, writing
            samples and checkpoints does not count), None for no limit.
        seed: seed of the global RNG at the start.
        amp: mixed precision, used only on CUDA.
        device: "cpu" or "cuda".
        progress: show a progress bar.
    """

    steps: int = 1000
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"
    decay_from: float = 0.5
    ema_decay: float | None = 0.999
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 10
    validate_every: int = 0
    patience: int = 0
    max_seconds: float | None = None
    seed: int = 0
    amp: bool = True
    device: str = "cpu"
    progress: bool = True


LBFGS_HISTORY = 20
"""Curvature pairs L-BFGS keeps: on norm-only personalisation (a few thousand trained values) 20 are plenty."""


def _generator_optimizer(task: TrainingTask, options: TrainOptions, has_discriminators: bool) -> torch.optim.Optimizer:
    parameters = [p for p in task.generators.parameters() if p.requires_grad]
    if options.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=options.lr, betas=options.betas)
    if options.optimizer != "lbfgs":
        raise OptionError(f"unknown optimizer {options.optimizer!r}; choose adam or lbfgs")
    if has_discriminators:
        raise OptionError("L-BFGS needs a deterministic objective: it cannot train against a discriminator")
    return torch.optim.LBFGS(parameters, lr=options.lr, max_iter=1, history_size=LBFGS_HISTORY)


class Trainer:
    """Runs a :class:`TrainingTask`.

    Args:
        task: the networks and losses.
        batches: ``batches(step) -> batch``, deterministic in ``step``.
        options: :class:`TrainOptions`.
        out_dir: where checkpoints, samples, metrics.jsonl and TensorBoard logs go.
        validate: optional ``validate(generator) -> float`` (lower is better) for early stopping.
    """

    def __init__(self, task: TrainingTask, batches: Callable[[int], Batch], options: TrainOptions, out_dir: str | Path,
                 validate: Callable[[nn.Module], float] | None = None) -> None:
        self.task, self.batches, self.options = task, batches, options
        self.out_dir = Path(out_dir)
        self.validate = validate
        device = torch.device(options.device)
        self.task.generators.to(device)
        self.task.discriminators.to(device)
        has_discriminators = any(True for _ in task.discriminators.parameters())
        self.opt_g = _generator_optimizer(task, options, has_discriminators)
        # parameters frozen by the task (FreezeD, Mo et al. 2020) stay frozen through the D/G phases
        self._trainable_d = [p for p in task.discriminators.parameters() if p.requires_grad]
        self.opt_d = (torch.optim.Adam(self._trainable_d, lr=options.lr, betas=options.betas)
                      if has_discriminators else None)
        self.ema = make_ema(task.generators[task.ema_generator]) if task.ema_generator and options.ema_decay else None
        self.use_amp = options.amp and device.type == "cuda" and options.optimizer == "adam"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.step = 0
        self._started, self._overhead = time.perf_counter(), 0.0
        self.skipped_steps = 0
        self.best_metric = math.inf
        self.bad_validations = 0
        self._writer = None

    # --- the public entry point -------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train until ``options.steps`` (or early stopping); return a summary.

        Ctrl-C saves a checkpoint and returns with ``summary["interrupted"] = True``.
        """
        if resume:
            self.load(self.out_dir)
        else:
            torch.manual_seed(self.options.seed)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        interrupted, stopped_early = False, False
        self._started, self._overhead = time.perf_counter(), 0.0
        last: dict[str, float] = {}
        with progress_bar("train", total=self.options.steps, enabled=self.options.progress) as bar:
            bar.update(advance=self.step)
            try:
                while self.step < self.options.steps:
                    last = self.train_step(self.batches(self.step))
                    self.step += 1
                    totals = " ".join(f"{k} {v:.3f}" for k, v in last.items() if k.endswith("total"))
                    bar.update(advance=1, status=totals)
                    self._periodic(last)
                    if self._should_stop_early():
                        stopped_early = True
                        break
                    if self.options.max_seconds and self.training_seconds() > self.options.max_seconds:
                        break
            except KeyboardInterrupt:
                interrupted = True
        self.save(self.out_dir)
        if self._writer:  # None: never opened; False: tensorboard is not installed
            self._writer.close()
        return {"steps": self.step, "skipped_steps": self.skipped_steps, "interrupted": interrupted,
                "stopped_early": stopped_early, "best_metric": self.best_metric, "last": last,
                "seconds": time.perf_counter() - self._started, "training_seconds": self.training_seconds()}

    def training_seconds(self) -> float:
        """Seconds spent training in the current :meth:`fit` (validation, samples and checkpoints
        excluded)."""
        return time.perf_counter() - self._started - self._overhead

    def inference_generator(self) -> nn.Module:
        """The EMA generator when there is one, else the trained one."""
        return self.ema if self.ema is not None else self.task.generators[self.task.ema_generator or "G"]

    # --- one step ---------------------------------------------------------------------------------

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One discriminator update (when the task has discriminators) then one generator update;
        non-finite losses skip the update."""
        factor = linear_decay(self.step, self.options.steps, self.options.decay_from)
        optimizers = [self.opt_g] + ([self.opt_d] if self.opt_d is not None else [])
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = self.options.lr * factor
        logs: dict[str, float] = {"lr": self.options.lr * factor}
        if self.opt_d is not None:
            self._set_discriminators_trainable(True)
            logs.update(self._update("D", self.opt_d, self.task.discriminator_loss, batch))
            self._set_discriminators_trainable(False)
        logs.update(self._update("G", self.opt_g, self.task.generator_loss, batch))
        if self.ema is not None:
            # warm-up (as TensorFlow's ExponentialMovingAverage with num_updates): early on the average
            # follows the weights closely, so short runs do not export a mix with the random init
            decay = min(self.options.ema_decay, (1 + self.step) / (10 + self.step))
            ema_update(self.ema, self.task.generators[self.task.ema_generator], decay)
        return logs

    def _set_discriminators_trainable(self, trainable: bool) -> None:
        for parameter in self._trainable_d:
            parameter.requires_grad_(trainable)

    def _update(self, name: str, optimizer: torch.optim.Optimizer, loss_fn, batch: Batch) -> dict[str, float]:
        if isinstance(optimizer, torch.optim.LBFGS):
            return self._lbfgs_update(name, optimizer, loss_fn, batch)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", enabled=self.use_amp):
            terms = loss_fn(batch)
        total = terms["total"]
        if not torch.isfinite(total):
            self.skipped_steps += 1
            self._log_line({"step": self.step, "event": f"skipped: non-finite {name} loss"})
            return {f"{name}/{k}": float("nan") for k in terms}
        self.scaler.scale(total).backward()
        self.scaler.step(optimizer)
        self.scaler.update()
        return {f"{name}/{k}": float(v.detach()) for k, v in terms.items()}

    def _lbfgs_update(self, name: str, optimizer: torch.optim.LBFGS, loss_fn, batch: Batch) -> dict[str, float]:
        """One L-BFGS iteration. A non-finite loss leaves zero gradients, so L-BFGS returns without moving."""
        evaluated: dict[str, torch.Tensor] = {}

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            terms = loss_fn(batch)
            if torch.isfinite(terms["total"]):
                terms["total"].backward()
            evaluated.update(terms)
            return terms["total"].detach()

        optimizer.step(closure)
        if not torch.isfinite(evaluated["total"]):
            self.skipped_steps += 1
            self._log_line({"step": self.step, "event": f"skipped: non-finite {name} loss"})
            return {f"{name}/{k}": float("nan") for k in evaluated}
        return {f"{name}/{k}": float(v.detach()) for k, v in evaluated.items()}

    # --- logging, samples, checkpoints, validation -----------------------------------------------

    def _periodic(self, logs: dict[str, float]) -> None:
        begun = time.perf_counter()
        self._write_periodic(logs)
        self._overhead += time.perf_counter() - begun

    def _write_periodic(self, logs: dict[str, float]) -> None:
        options, step = self.options, self.step
        if options.log_every and (step % options.log_every == 0 or step == options.steps):
            self._log_line({"step": step, **logs})
            writer = self._tensorboard()
            if writer is not None:
                for key, value in logs.items():
                    writer.add_scalar(key, value, step)
        if options.sample_every and step % options.sample_every == 0:
            self.write_samples()
        if options.checkpoint_every and step % options.checkpoint_every == 0:
            self.save(self.out_dir)

    def _should_stop_early(self) -> bool:
        begun = time.perf_counter()
        try:
            return self._validate_and_decide()
        finally:
            self._overhead += time.perf_counter() - begun

    def _validate_and_decide(self) -> bool:
        options = self.options
        due = options.validate_every and (self.step % options.validate_every == 0 or self.step == options.steps)
        if not (self.validate and due):
            return False
        metric = float(self.validate(self.inference_generator()))
        self._log_line({"step": self.step, "validation": metric})
        if metric < self.best_metric:
            self.best_metric, self.bad_validations = metric, 0
            torch.save({k: v.detach().cpu() for k, v in self.inference_generator().state_dict().items()},
                       self.out_dir / "best_generator.pt")
            return False
        self.bad_validations += 1
        return bool(options.patience) and self.bad_validations >= options.patience

    def write_samples(self) -> Path:
        """Save a grid of the task's samples for the current step."""
        from torchvision.utils import save_image

        generator = self.inference_generator()
        with torch.no_grad():
            grid = self.task.samples(self.batches(0), generator).clamp(0, 1)
        path = self.out_dir / "samples" / f"step_{self.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path, nrow=max(1, grid.shape[0] // 2))
        writer = self._tensorboard()
        if writer is not None:
            from torchvision.utils import make_grid

            writer.add_image("samples", make_grid(grid, nrow=max(1, grid.shape[0] // 2)), self.step)
        return path

    def _log_line(self, record: dict[str, Any]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.out_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _tensorboard(self):
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional: metrics.jsonl has the same numbers
                self._writer = False
                return None
            self._writer = SummaryWriter(str(self.out_dir / "tensorboard"))
        return self._writer or None

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "skipped_steps": self.skipped_steps, "best_metric": self.best_metric,
                "bad_validations": self.bad_validations, "generators": self.task.generators.state_dict(),
                "discriminators": self.task.discriminators.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict() if self.opt_d is not None else {},
                "ema": self.ema.state_dict() if self.ema is not None else {},
                "scaler": self.scaler.state_dict(), "task": self.task.extra_state(), "rng": rng_state(),
                "options": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.options).items()}}

    def save(self, folder: str | Path) -> Path:
        """Write a checkpoint (atomically)."""
        return save_checkpoint(folder, self.state_dict())

    def load(self, folder: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save`, RNG states included."""
        state = load_checkpoint(folder)
        saved_optimizer = state.get("options", {}).get("optimizer", "adam")
        if saved_optimizer != self.options.optimizer:
            raise StylefuseError(f"cannot resume: the checkpoint in {folder} was trained with {saved_optimizer}, "
                                 f"this run uses {self.options.optimizer}; resume with the same optimizer")
        trained = [p for p in self.task.generators.parameters() if p.requires_grad]
        if len(state["opt_g"]["param_groups"][0]["params"]) != len(trained):
            raise StylefuseError(f"cannot resume: the checkpoint in {folder} trained another set of parameters "
                                 "(made by an older stylefuse or another --freeze); start a new run")
        self.task.generators.load_state_dict(state["generators"])
        self.task.discriminators.load_state_dict(state["discriminators"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.opt_d is not None:
            self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None and state["ema"]:
            self.ema.load_state_dict(state["ema"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.task.load_extra_state(state["task"])
        self.step, self.skipped_steps = state["step"], state["skipped_steps"]
        self.best_metric, self.bad_validations = state["best_metric"], state["bad_validations"]
        set_rng_state(state["rng"])
