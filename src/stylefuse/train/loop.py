"""The one training loop, used by every trainable method (GANs, feed-forward stylizers, inverters).

A method supplies a :class:`TrainingTask` (its networks and losses); the loop owns everything else:
alternating D/G phases with Adam (a task without discriminators has only the G phase), the linear LR
decay, EMA of the generator, AMP on CUDA, recovery from non-finite steps, TensorBoard scalars
(``metrics.jsonl`` always), sample grids, a progress bar, atomic checkpoints that record their recipe and
resume exactly, Ctrl-C that saves, and early stopping on a validation metric.

A step whose loss or gradients are not finite is not applied: the loop restores the last finite state
(weights, optimisers, EMA, kept in memory every :data:`SNAPSHOT_EVERY` steps), halves the learning rate for
the rest of the run and goes on with the next batch; after ``TrainOptions.max_nonfinite_steps`` such steps
in a row it stops with :class:`TrainingDivergedError` and writes nothing more.

Exact resumption needs every batch to be a function of the step alone: ``batches(step)`` must not
draw from the global RNG (the datasets in :mod:`stylefuse.data` seed a generator per step). Global
RNG states (dropout, pools, DiffAugment) are saved in the checkpoint.
"""

from __future__ import annotations

import copy
import json
import math
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from stylefuse.devices import check_device
from stylefuse.errors import OptionError, StylefuseError
from stylefuse.fileutil import atomic_write, remove_temporaries
from stylefuse.progress import progress_bar
from stylefuse.train.augment import ema_update, linear_decay, make_ema
from stylefuse.train.checkpoint import (
    CHECKPOINT_FILE,
    CHECKPOINT_VERSION,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_all,
    set_rng_state,
)
from stylefuse.train.distributed import Engine, RankLostError, split_batch
from stylefuse.train.recipes import check_at_least, field_defaults, first_difference, option_name, plain

Batch = Any

SNAPSHOT_EVERY = 25
"""Steps between in-memory copies of the training state that a non-finite step rolls back to."""
LR_BACKOFF = 0.5
"""Factor on the learning rate after each non-finite step."""
RUN_FILES = (CHECKPOINT_FILE, "best_generator.pt", "metrics.jsonl")
"""Files of a training run in its output folder; ``overwrite`` removes them before a new run."""
RECIPE_OPTIONS = ("optimizer", "lr", "betas", "decay_from", "ema_decay", "seed")
"""The :class:`TrainOptions` that shape the result and must not change on resume (``steps`` and
``max_seconds`` may: continuing longer is normal)."""


class TrainingDivergedError(StylefuseError):
    """Training produced non-finite losses or gradients several steps in a row, even after restoring the
    last finite state and lowering the learning rate."""


class RunExistsError(OptionError):
    """The output folder already holds a training run, and neither resume nor overwrite was asked for."""


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
    method_name: str = ""
    recipe: Any = None
    """The options dataclass the task was built from (recorded in checkpoints), or None."""

    def recipe_record(self) -> dict[str, Any]:
        """The task's recipe as plain data (``{"method": ..., field: value, ...}``), for checkpoints and configs."""
        record = {"method": self.method_name} if self.method_name else {}
        recipe = plain(self.recipe) if self.recipe is not None else {}
        return {**record, **(recipe if isinstance(recipe, dict) else {"recipe": recipe})}

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
        device: "cpu" or "cuda" (checked: a GPU must be present).
        progress: show a progress bar.
        overwrite: start a new run in a folder that holds one (its checkpoint, best weights and
            metrics.jsonl are removed); without it such a folder is refused unless resuming.
        change_recipe: resume a checkpoint trained with another recipe (staged training: larger crops, another
            learning rate or loss weight); the change is logged in metrics.jsonl and the new recipe recorded.
        max_nonfinite_steps: stop with :class:`TrainingDivergedError` after this many non-finite steps in a row.
        accumulate: gradient accumulation: each step's batch (this process's share of it) runs as this many
            micro-batches whose gradients add up to those of the whole batch, in less memory (Adam only).

    Raises:
        OptionError: for a value the loop cannot use (one line naming the CLI option).
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
    overwrite: bool = False
    change_recipe: bool = False
    max_nonfinite_steps: int = 5
    accumulate: int = 1

    def __post_init__(self) -> None:
        check_at_least("steps", self.steps, 1)
        check_at_least("lr", self.lr, 0, strict=True)
        if len(self.betas) != 2 or not all(0 <= beta < 1 for beta in self.betas):
            raise OptionError(f"betas {tuple(self.betas)}: Adam takes two values in [0, 1)")
        if self.optimizer not in ("adam", "lbfgs"):
            raise OptionError(f"unknown optimizer {self.optimizer!r}; choose adam or lbfgs")
        if not 0 <= self.decay_from <= 1:
            raise OptionError(f"decay_from {self.decay_from}: must be in [0, 1]")
        if self.ema_decay is not None and not 0 <= self.ema_decay < 1:
            raise OptionError(f"ema_decay {self.ema_decay}: must be in [0, 1), or None for no EMA")
        for name in ("checkpoint_every", "sample_every", "log_every", "validate_every", "patience"):
            check_at_least(name, getattr(self, name), 0)
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise OptionError(f"--max-minutes {self.max_seconds / 60:g}: the time budget must be > 0")
        check_at_least("max_nonfinite_steps", self.max_nonfinite_steps, 1)
        check_at_least("accumulate", self.accumulate, 1)
        if self.accumulate > 1 and self.optimizer != "adam":
            raise OptionError("gradient accumulation needs --optimizer adam (L-BFGS evaluates the whole batch)")
        check_device(self.device)


LBFGS_HISTORY = 20
"""Curvature pairs L-BFGS keeps: on norm-only personalisation (a few thousand trained values) 20 are plenty."""


def _generator_optimizer(task: TrainingTask, options: TrainOptions, has_discriminators: bool) -> torch.optim.Optimizer:
    parameters = [p for p in task.generators.parameters() if p.requires_grad]
    if options.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=options.lr, betas=options.betas)
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
        self.engine = Engine.from_env(check_device(options.device))
        device = self.engine.device(check_device(options.device))
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
        self.checkpoint_step: int | None = None  # the step of the last checkpoint written or resumed from
        self._started, self._overhead = time.perf_counter(), 0.0
        self.skipped_steps = 0
        self.lr_scale = 1.0
        self.nonfinite_in_a_row = 0
        self._snapshot: dict[str, Any] | None = None
        self.best_metric = math.inf
        self.bad_validations = 0
        self._writer = None

    # --- the public entry point -------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train until ``options.steps`` (or early stopping, or the time budget); return a summary.

        ``summary["state"]`` says how the run ended: "done", "stopped early", "time budget" or "interrupted".
        Ctrl-C saves a checkpoint and returns with ``summary["interrupted"] = True``.

        Raises:
            RunExistsError: ``out_dir`` holds a run, and neither ``resume`` nor ``options.overwrite`` is set.
            TrainingDivergedError: too many non-finite steps in a row (no checkpoint is written then).
            RankLostError: another rank of a distributed run died or hung (no checkpoint is written then: the
                message names the one to resume from).
        """
        try:
            return self._fit(resume)
        except RankLostError as exc:
            where = (f"resume from the checkpoint of step {self.checkpoint_step} in {self.out_dir} with --resume "
                     "(on any number of processes that divides the batch size)" if self.checkpoint_step is not None
                     else "no checkpoint was written yet: start the run again")
            raise RankLostError(f"{exc}; the run stopped without saving: {where}") from exc

    def _fit(self, resume: bool) -> dict[str, Any]:
        if resume:
            self.load(self.out_dir)
        else:
            self._claim_out_dir()
            seed_all(self.options.seed)
        self.engine.broadcast([self.task.generators, self.task.discriminators, *([self.ema] if self.ema else [])])
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.out_dir, self.out_dir / "samples") if self.engine.is_main else ():
            remove_temporaries(folder)  # a killed run's half-written files
        self._take_snapshot()
        state = "done"
        self._started, self._overhead = time.perf_counter(), 0.0
        last: dict[str, float] = {}
        with progress_bar("train", total=self.options.steps, enabled=self.options.progress and self.engine.is_main) \
                as bar:
            bar.update(advance=self.step)
            try:
                while self.step < self.options.steps:
                    last = self.train_step(self.engine.shard(self.batches(self.step)))
                    self.step += 1
                    totals = " ".join(f"{k} {v:.3f}" for k, v in last.items() if k.endswith("total"))
                    bar.update(advance=1, status=totals)
                    self._periodic(last)
                    if self._should_stop_early():
                        state = "stopped early"
                        break
                    budget = self.options.max_seconds  # the same on every rank: no collective without one
                    if budget and self.engine.from_main(self.training_seconds() > budget):  # one clock decides
                        state = "time budget" if self.step < self.options.steps else state
                        break
            except KeyboardInterrupt:
                state = "interrupted"
            finally:
                self._close_writer()
        self.save(self.out_dir)
        self.engine.barrier()  # the other ranks may read what rank 0 wrote (best weights) once this returns
        return {"state": state, "steps": self.step, "skipped_steps": self.skipped_steps,
                "interrupted": state == "interrupted", "stopped_early": state == "stopped early",
                "budget_ended": state == "time budget", "lr_scale": self.lr_scale, "best_metric": self.best_metric,
                "last": last, "seconds": time.perf_counter() - self._started,
                "training_seconds": self.training_seconds(), "main_process": self.engine.is_main}

    def training_seconds(self) -> float:
        """Seconds spent training in the current :meth:`fit` (validation, samples and checkpoints
        excluded)."""
        return time.perf_counter() - self._started - self._overhead

    def inference_generator(self) -> nn.Module:
        """The EMA generator when there is one, else the trained one."""
        return self.ema if self.ema is not None else self.task.generators[self.task.ema_generator or "G"]

    def recipe_record(self) -> dict[str, Any]:
        """What produced the weights: the task's recipe and the options in :data:`RECIPE_OPTIONS`, as plain
        data. Checkpoints record it, resuming requires the same, and model folders may record it."""
        return {**self.task.recipe_record(), **{name: plain(getattr(self.options, name)) for name in RECIPE_OPTIONS}}

    def _claim_out_dir(self) -> None:
        """Refuse a folder that holds a run, or clear that run's files when ``overwrite`` is set."""
        if not (self.out_dir / CHECKPOINT_FILE).exists():
            return
        if not self.options.overwrite:
            raise RunExistsError(f"{self.out_dir} already holds a training run ({CHECKPOINT_FILE}); continue it "
                                 "with --resume, or start over with --overwrite")
        for name in RUN_FILES if self.engine.is_main else ():
            (self.out_dir / name).unlink(missing_ok=True)

    # --- one step ---------------------------------------------------------------------------------

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One discriminator update (when the task has discriminators) then one generator update.

        A non-finite loss or gradient applies neither: the last finite state is restored and the learning
        rate lowered (see the module docstring).
        """
        if self._snapshot is None:  # called outside fit()
            self._take_snapshot()
        factor = linear_decay(self.step, self.options.steps, self.options.decay_from) * self.lr_scale
        optimizers = [self.opt_g] + ([self.opt_d] if self.opt_d is not None else [])
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = self.options.lr * factor
        logs: dict[str, float] = {"lr": self.options.lr * factor}
        finite = True
        if self.opt_d is not None:
            self._set_discriminators_trainable(True)
            finite = self._update("D", self.opt_d, self.task.discriminator_loss, batch, logs)
            self._set_discriminators_trainable(False)
        if finite:
            finite = self._update("G", self.opt_g, self.task.generator_loss, batch, logs)
        if not finite:
            self._recover()
            return logs
        self.nonfinite_in_a_row = 0
        if self.ema is not None:
            # warm-up (as TensorFlow's ExponentialMovingAverage with num_updates): early on the average
            # follows the weights closely, so short runs do not export a mix with the random init
            decay = min(self.options.ema_decay, (1 + self.step) / (10 + self.step))
            ema_update(self.ema, self.task.generators[self.task.ema_generator], decay)
        if self._snapshot is None or self.step + 1 - self._snapshot["step"] >= SNAPSHOT_EVERY:
            self._take_snapshot(self.step + 1)
        return logs

    def _set_discriminators_trainable(self, trainable: bool) -> None:
        for parameter in self._trainable_d:
            parameter.requires_grad_(trainable)

    def _update(self, name: str, optimizer: torch.optim.Optimizer, loss_fn, batch: Batch,
                logs: dict[str, float]) -> bool:
        """One optimiser step on ``loss_fn(batch)["total"]``; its terms go into ``logs`` (prefixed with
        ``name``). Returns False, without stepping, when the loss or a gradient is not finite."""
        if isinstance(optimizer, torch.optim.LBFGS):
            return self._lbfgs_update(name, optimizer, loss_fn, batch, logs)
        optimizer.zero_grad(set_to_none=True)
        parts = self.options.accumulate
        means: dict[str, float] = {}
        for index in range(parts):
            with torch.autocast("cuda", enabled=self.use_amp):
                terms = loss_fn(split_batch(batch, parts, index) if parts > 1 else batch)
            for key, value in terms.items():
                means[key] = means.get(key, 0.0) + float(value.detach()) / parts
            if not self.engine.all_ranks(bool(torch.isfinite(terms["total"]))):
                optimizer.zero_grad(set_to_none=True)
                logs.update({f"{name}/{k}": v for k, v in means.items()})
                return self._non_finite(f"{name} loss")
            self.scaler.scale(terms["total"] / parts if parts > 1 else terms["total"]).backward()
        logs.update({f"{name}/{k}": v for k, v in means.items()})
        self.engine.average_gradients(optimizer)
        # with AMP the scaler skips steps with overflowing gradients itself (and lowers its scale)
        if not self.use_amp and not finite_gradients(optimizer):
            optimizer.zero_grad(set_to_none=True)
            return self._non_finite(f"{name} gradient")
        self.scaler.step(optimizer)
        self.scaler.update()
        return True

    def _lbfgs_update(self, name: str, optimizer: torch.optim.LBFGS, loss_fn, batch: Batch,
                      logs: dict[str, float]) -> bool:
        """One L-BFGS iteration. A non-finite loss leaves zero gradients, so L-BFGS returns without moving."""
        evaluated: dict[str, torch.Tensor] = {}

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            terms = loss_fn(batch)
            if self.engine.all_ranks(bool(torch.isfinite(terms["total"]))):
                terms["total"].backward()
                self.engine.average_gradients(optimizer)
            evaluated.update(terms)
            return terms["total"].detach()

        optimizer.step(closure)
        logs.update({f"{name}/{k}": float(v.detach()) for k, v in evaluated.items()})
        if not torch.isfinite(evaluated["total"]):
            return self._non_finite(f"{name} loss")
        return True

    def _non_finite(self, what: str) -> bool:
        self.skipped_steps += 1
        self._log_line({"step": self.step, "event": f"skipped: non-finite {what}"})
        return False

    # --- recovery from non-finite steps -----------------------------------------------------------

    def _take_snapshot(self, step: int | None = None) -> None:
        """Keep an in-memory copy of the training state (when it is finite) to roll back to."""
        state = copy.deepcopy(self._model_state())
        if all_finite(state):
            self._snapshot = {"step": self.step if step is None else step, "state": state}

    def _recover(self) -> None:
        """Roll back to the last snapshot and lower the learning rate, or give up after too many
        non-finite steps in a row."""
        self.nonfinite_in_a_row += 1
        if self.nonfinite_in_a_row >= self.options.max_nonfinite_steps:
            self._log_line({"step": self.step, "event": "diverged"})
            raise TrainingDivergedError(
                f"training diverged at step {self.step}: {self.nonfinite_in_a_row} non-finite steps in a row, "
                f"even with the learning rate lowered to {self.options.lr * self.lr_scale:.3g}; no model was "
                f"written; start again with a lower {option_name('lr')} (was {self.options.lr:g})")
        self._load_model_state(copy.deepcopy(self._snapshot["state"]))
        self.lr_scale *= LR_BACKOFF
        self._log_line({"step": self.step, "event": f"restored the state of step {self._snapshot['step']}; "
                                                    f"learning rate x{self.lr_scale:g}"})

    # --- logging, samples, checkpoints, validation -----------------------------------------------

    def _periodic(self, logs: dict[str, float]) -> None:
        if not self.engine.is_main:
            return
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
            weights = {k: v.detach().cpu() for k, v in self.inference_generator().state_dict().items()}
            if self.engine.is_main:
                atomic_write(self.out_dir / "best_generator.pt", lambda tmp: torch.save(weights, tmp), durable=True)
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
        atomic_write(path, lambda tmp: save_image(grid, tmp, nrow=max(1, grid.shape[0] // 2)))
        writer = self._tensorboard()
        if writer is not None:
            from torchvision.utils import make_grid

            writer.add_image("samples", make_grid(grid, nrow=max(1, grid.shape[0] // 2)), self.step)
        return path

    def _log_line(self, record: dict[str, Any]) -> None:
        if not self.engine.is_main:
            return
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

    def _close_writer(self) -> None:
        if self._writer:  # None: never opened; False: tensorboard is not installed
            self._writer.close()
        self._writer = None

    # --- state ------------------------------------------------------------------------------------

    def _model_state(self) -> dict[str, Any]:
        """Weights, optimiser, EMA, scaler and task state: what a non-finite step rolls back."""
        return {"generators": self.task.generators.state_dict(),
                "discriminators": self.task.discriminators.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict() if self.opt_d is not None else {},
                "ema": self.ema.state_dict() if self.ema is not None else {},
                "scaler": self.scaler.state_dict(), "task": self.task.extra_state()}

    def _load_model_state(self, state: dict[str, Any], task_state: bool = True) -> None:
        """Restore networks, optimisers, EMA and scaler, and the task's own state (image pools: skipped when
        the recipe changed, since they hold crops of the old size)."""
        self.task.generators.load_state_dict(state["generators"])
        self.task.discriminators.load_state_dict(state["discriminators"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.opt_d is not None:
            self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None and state["ema"]:
            self.ema.load_state_dict(state["ema"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        if task_state:
            self.task.load_extra_state(state["task"])

    def state_dict(self) -> dict[str, Any]:
        """The checkpoint: :meth:`_model_state`, the step, counters, RNG states, the format version and
        the recipe (:meth:`recipe_record`)."""
        return {"format_version": CHECKPOINT_VERSION, "recipe": self.recipe_record(), **self._model_state(),
                "step": self.step, "skipped_steps": self.skipped_steps, "lr_scale": self.lr_scale,
                "best_metric": self.best_metric, "bad_validations": self.bad_validations, "rng": rng_state(),
                "options": plain(asdict(self.options))}

    def save(self, folder: str | Path) -> Path:
        """Write a checkpoint (atomically; rank 0 only in a distributed run); refuses non-finite weights, which never
        reach a checkpoint."""
        state = self.state_dict()
        if not all_finite({k: state[k] for k in ("generators", "discriminators", "ema")}):
            raise TrainingDivergedError(f"not writing a checkpoint to {folder}: the weights are not finite")
        path = save_checkpoint(folder, state) if self.engine.is_main else Path(folder) / CHECKPOINT_FILE
        self.checkpoint_step = self.step
        return path

    def load(self, folder: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save`, RNG states included.

        Raises:
            StylefuseError: the checkpoint is missing, damaged, of another format version, or was trained with
                another recipe (the message names the first differing field).
        """
        state = load_checkpoint(folder)
        version = state.get("format_version")
        if version != CHECKPOINT_VERSION:
            raise StylefuseError(f"cannot resume: the checkpoint in {folder} has format version {version}, this "
                                 f"stylefuse writes version {CHECKPOINT_VERSION}; start over with --overwrite")
        difference = first_difference(state["recipe"], self.recipe_record(), field_defaults(self.task.recipe))
        if difference is not None and not self.options.change_recipe:
            field, old, new = difference
            raise StylefuseError(f"cannot resume: the checkpoint was trained with {field}={old}, this run asks for "
                                 f"{field}={new}; resume with the same options, continue with the new ones with "
                                 "--change-recipe, or start over with --overwrite")
        trained = [p for p in self.task.generators.parameters() if p.requires_grad]
        if len(state["opt_g"]["param_groups"][0]["params"]) != len(trained):
            raise StylefuseError(f"cannot resume: the checkpoint in {folder} trained another set of parameters; "
                                 "start over with --overwrite")
        try:
            self._load_model_state(state, task_state=difference is None)
        except (RuntimeError, ValueError) as exc:  # a recipe change that changes the networks' shapes
            first_line = str(exc).strip().splitlines()[0]
            raise StylefuseError(f"cannot resume: the checkpoint in {folder} does not fit this run's networks "
                                 f"({first_line}); start over with --overwrite") from None
        self.step, self.skipped_steps, self.lr_scale = state["step"], state["skipped_steps"], state["lr_scale"]
        self.checkpoint_step = self.step
        if self.engine.is_main:
            trim_metrics(self.out_dir / "metrics.jsonl", self.step)
        if difference is not None:
            self._log_line({"step": self.step, "recipe_changed": {"from": state["recipe"], "to": self.recipe_record()}})
        self.best_metric, self.bad_validations = state["best_metric"], state["bad_validations"]
        set_rng_state(state["rng"])


def trim_metrics(path: Path, step: int) -> int:
    """Drop the records of ``metrics.jsonl`` that a run resumed at ``step`` writes again; returns how many.

    The checkpoint of step ``step`` is written after that step's log line and before its validation line, so
    both stay; what came after it (later steps, events of the step index ``step`` itself, which is replayed, a
    line cut off by a kill) goes. Every step then appears once in the file.
    """
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            at = int(record["step"])
        except (ValueError, TypeError, KeyError):  # a line cut off by a kill
            dropped += 1
            continue
        if at < step or (at == step and "event" not in record):
            kept.append(line)
        else:
            dropped += 1
    if dropped:
        atomic_write(path, lambda tmp: tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8"))
    return dropped


def finite_gradients(optimizer: torch.optim.Optimizer) -> bool:
    """Whether every gradient of ``optimizer``'s parameters is finite. A gradient whose norm overflows
    float32 counts as non-finite too: Adam's squared-gradient average would overflow on it."""
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return True
    return bool(torch.isfinite(torch.stack(torch._foreach_norm(grads))).all())


def all_finite(state: Any) -> bool:
    """Whether every floating-point tensor in a (nested) state dict is finite."""
    if isinstance(state, torch.Tensor):
        return not state.is_floating_point() or bool(torch.isfinite(state).all())
    if isinstance(state, dict):
        return all(all_finite(value) for value in state.values())
    if isinstance(state, (list, tuple)):
        return all(all_finite(value) for value in state)
    return True
