"""The engine adapter of the training loop: one process, or data-parallel ranks under ``torchrun`` or
``accelerate launch`` (torch.distributed; gloo on CPU, NCCL on CUDA).

When ``WORLD_SIZE`` > 1 in the environment (both launchers set it, with ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``), :meth:`Engine.from_env` joins the process group. Each step every rank builds the same global batch
from the (seed, step) rule and keeps its slice (:meth:`Engine.shard`), so a run depends on the global batch only, not
on the world size; gradients are averaged over the ranks before each optimiser step, which is what DDP computes (Li
et al. 2020, "PyTorch Distributed"), without wrapping the networks: their state-dict keys, checkpoints and model
folders stay those of a one-process run, and the loop's alternating D/G phases (parameters frozen in turn) need no
``find_unused_parameters``. Rank 0 alone writes checkpoints, logs, samples and model folders.

A rank that dies brings the run down instead of leaving the others waiting: every collective has a timeout
(``STYLEFUSE_DIST_TIMEOUT`` seconds, default :data:`DEFAULT_TIMEOUT`; gloo raises when it expires, or at once when a
peer's connection closes; NCCL's watchdog aborts), a failed collective becomes a :class:`RankLostError` (one line,
exit status 1), and a rank that its launcher stops with SIGTERM (``torchrun`` does so to the survivors when one
worker fails) raises the same error. No checkpoint is written then, since a rank may be half-way through a step: the
run resumes from its last periodic checkpoint.
"""

from __future__ import annotations

import datetime
import os
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import torch

from stylefuse.errors import OptionError, StylefuseError

TIMEOUT_ENV = "STYLEFUSE_DIST_TIMEOUT"
"""Environment variable: seconds a rank waits in a collective (or for the others to join) before giving up."""
DEFAULT_TIMEOUT = 600.0
"""Long enough for what rank 0 does alone while the others wait (checkpoints, samples, the model folder); far
below PyTorch's own 30 minutes, so that a stuck rank costs minutes, not half an hour, of a cluster."""

_stopping = threading.Event()
"""Set once this process knows its run is lost: the launcher's SIGTERM that follows is then ignored, so that the
error line gets printed (a launcher that waits too long sends SIGKILL; torchrun does after 30 s)."""


class RankLostError(StylefuseError):
    """A distributed run lost a rank (it died, hung past the timeout, or the launcher stopped this one); the run
    stops without a checkpoint and resumes from its last one."""

    exit_code = 1  # not the user's mistake (2): a failed run, as torchrun reports a failed worker


def collective_timeout() -> float:
    """Seconds from ``STYLEFUSE_DIST_TIMEOUT`` (default :data:`DEFAULT_TIMEOUT`).

    Raises:
        OptionError: a value that is not a positive number.
    """
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise OptionError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds > 0; e.g. {TIMEOUT_ENV}=600")
    return seconds


@dataclass(frozen=True)
class Engine:
    """Where this process stands in a data-parallel run: ``rank`` of ``world_size`` (0 of 1: no distribution), and
    the seconds a collective may wait (named in errors; a process group joined by :meth:`from_env` uses them)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, device: torch.device) -> "Engine":
        """The engine the launcher's environment describes; joins (once) the process group when ``WORLD_SIZE`` > 1.

        Args:
            device: the training device; CUDA ranks use NCCL, others gloo.
        """
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        import torch.distributed as dist

        timeout = collective_timeout()
        if not dist.is_initialized():
            rank, where = os.environ.get("RANK", "?"), os.environ.get("MASTER_ADDR", "?")
            with _failures_as(RankLostError, f"rank {rank} of {world_size} could not join the process group at "
                              f"{where}:{os.environ.get('MASTER_PORT', '?')} within {timeout:g} s"):
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                        timeout=datetime.timedelta(seconds=timeout))
        engine = cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), timeout)
        engine._stop_on_sigterm()
        return engine

    @property
    def is_main(self) -> bool:
        """True on the rank that writes files (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True with more than one rank."""
        return self.world_size > 1

    def device(self, device: torch.device) -> torch.device:
        """This rank's device: ``cuda:LOCAL_RANK`` for CUDA in a distributed run, else ``device``."""
        if self.distributed and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def shard(self, batch: Any) -> Any:
        """This rank's slice of a global batch (see :func:`split_batch`)."""
        return split_batch(batch, self.world_size, self.rank) if self.distributed else batch

    def broadcast(self, modules: Iterable[torch.nn.Module]) -> None:
        """Give every rank rank 0's parameters and buffers (as DDP does at construction)."""
        if not self.distributed:
            return
        import torch.distributed as dist

        with torch.no_grad(), self._collective("broadcast of rank 0's weights"):
            for module in modules:
                for tensor in module.state_dict().values():
                    dist.broadcast(tensor, src=0)

    def average_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Replace each gradient of ``optimizer``'s parameters by its mean over the ranks (one flat all-reduce)."""
        if not self.distributed:
            return
        import torch.distributed as dist

        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([grad.reshape(-1) for grad in grads])
        with self._collective("all-reduce of the gradients"):
            dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def all_ranks(self, flag: bool) -> bool:
        """True when ``flag`` is true on every rank, so that all ranks take the same branch."""
        if not self.distributed:
            return flag
        import torch.distributed as dist

        value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._collective_device())
        with self._collective("all-reduce of a decision"):
            dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def from_main(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (for decisions that depend on this process's clock, as a time budget)."""
        if not self.distributed:
            return flag
        import torch.distributed as dist

        value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._collective_device())
        with self._collective("broadcast of a decision"):
            dist.broadcast(value, src=0)
        return bool(value.item())

    def _collective_device(self) -> torch.device:
        import torch.distributed as dist

        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")

    def barrier(self) -> None:
        """Wait until every rank gets here (e.g. before reading what rank 0 wrote)."""
        if self.distributed:
            import torch.distributed as dist

            with self._collective("barrier"):
                dist.barrier()

    def _collective(self, what: str):
        return _failures_as(RankLostError, f"rank {self.rank} of {self.world_size}: the {what} failed: another "
                            f"rank died or did not answer within {self.timeout:g} s")

    def _stop_on_sigterm(self) -> None:
        """Turn a SIGTERM (the launcher stopping the survivors of a failed run) into :class:`RankLostError`, so
        that this rank, too, ends with one line; a handler the program installed itself is left alone."""
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        message = (f"rank {self.rank} of {self.world_size} was stopped by its launcher (SIGTERM), usually because "
                   "another rank failed")

        def stop(signum: int, frame: Any) -> None:
            if not _stopping.is_set():  # already on its way out: let the one line being printed finish
                _stopping.set()
                raise RankLostError(message)

        signal.signal(signal.SIGTERM, stop)


@contextmanager
def _failures_as(error: type[StylefuseError], message: str) -> Iterator[None]:
    """Raise ``error(message (reason))`` for a failure of torch.distributed (gloo raises RuntimeError; NCCL and the
    rendezvous store DistError, a RuntimeError too), with the first line of the backend's own message."""
    try:
        yield
    except RuntimeError as exc:
        _stopping.set()
        raise error(f"{message} ({backend_reason(exc)})") from exc


def backend_reason(exc: BaseException) -> str:
    """The gist of a torch.distributed error: its first sentence without the C++ source location, e.g. "Read error
    [10.0.0.2]:7812: Connection reset by peer" from gloo's "[.../pair.cc:545] Read error ...: Connection reset by
    peer. This is typically caused by ..."."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^\[[^\]]*\.(?:cc|cpp|h|hpp):\d+\]\s*", "", text)
    text = text.split(". ")[0].rstrip(".")
    return text[:300] or type(exc).__name__


def split_batch(batch: Any, parts: int, index: int) -> Any:
    """Part ``index`` of ``parts`` of a batch: every tensor (nested in lists, tuples and dicts) split along its first
    axis into ``parts`` equal slices; 0-d tensors and other values are kept whole. Shards batches over ranks and
    into the micro-batches of gradient accumulation.

    Raises:
        OptionError: a batch size that ``parts`` does not divide.
    """
    if isinstance(batch, torch.Tensor):
        if batch.ndim == 0:
            return batch
        if batch.shape[0] % parts:
            raise OptionError(f"the batch size {batch.shape[0]} does not split into {parts} equal parts (processes "
                              "times accumulation steps); choose a batch size that they divide")
        return batch.chunk(parts)[index]
    if isinstance(batch, dict):
        return {key: split_batch(value, parts, index) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(split_batch(value, parts, index) for value in batch)
    return batch
