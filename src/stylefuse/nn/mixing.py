"""The weights of an output-space ensemble, stored as its model folder's network."""

from __future__ import annotations

import torch
from torch import nn

from stylefuse.registry import NETWORKS


@NETWORKS.register("member_weights")
class MemberWeights(nn.Module):
    """The K mixing weights of an ensemble of stylizers (see :mod:`stylefuse.methods.ensemble`).

    Args:
        members: K.

    Shape: ``weights`` (K,), non-negative, summing to 1; outputs (K, C, H, W) -> their weighted mean (C, H, W).
    """

    def __init__(self, members: int = 2) -> None:
        super().__init__()
        self.register_buffer("weights", torch.full((members,), 1.0 / members))

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:
        if outputs.shape[0] != len(self.weights):
            raise ValueError(f"expected {len(self.weights)} member outputs, got {outputs.shape[0]}")
        return torch.einsum("k,k...->...", self.weights.to(outputs.dtype), outputs)
