"""The engine adapter of the training loop: one process, or data-parallel ranks under ``torchrun`` or
``accelerate launch`` (torch.distributed; gloo on CPU, NCCL on CUDA).

When ``WORLD_SIZE`` > 1 in the environment (both launchers set it, with ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``), :meth:`Engine.from_env` joins the process group. Each step every rank builds the same global batch
from the (seed, step) rule and keeps its slice (:meth:`Engine.shard`), so a run depends on the global batch only, not
on the world size; gradients are averaged over the ranks before each optimiser step, which is what DDP computes (Li
et al. 2020, "PyTorch Distributed"), without wrapping the networks: their state-dict keys, checkpoints and model
folders stay those of a one-process run, and the loop's alternating D/G phases (parameters frozen in turn) need no
``find_unused_parameters``. Rank 0 alone writes checkpoints, logs, samples and model folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

import torch

from stylefuse.errors import OptionError


@dataclass(frozen=True)
class Engine:
    """Where this process stands in a data-parallel run: ``rank`` of ``world_size`` (0 of 1: no distribution)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

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

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

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

        with torch.no_grad():
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
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def from_main(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (for decisions that depend on this process's clock, as a time budget)."""
        if not self.distributed:
            return flag
        import torch.distributed as dist

        value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._collective_device())
        dist.broadcast(value, src=0)
        return bool(value.item())

    def _collective_device(self) -> torch.device:
        import torch.distributed as dist

        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")

    def barrier(self) -> None:
        """Wait until every rank gets here (e.g. before reading what rank 0 wrote)."""
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()


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
