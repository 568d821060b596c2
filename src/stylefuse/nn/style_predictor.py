"""The style-prediction network of Ghiasi, Lee, Kudlur, Dumoulin & Shlens (2017), "Exploring the structure
of a real-time, arbitrary neural artistic stylization network": from a painting, one pass predicts the
per-style tables of a conditional-instance-norm stylizer, so the multi-style network of
:mod:`stylefuse.nn.fast_stylizer` stylizes with any painting, not only its named styles.

Ghiasi et al. run an Inception-v3 on the painting; here the input is the painting's VGG16 statistics
that stylefuse already computes (per style layer, the channel means and standard deviations that AdaIN
matches, Huang & Belongie 2017; :mod:`stylefuse.methods.style_statistics`), so no second encoder is
shipped. An MLP maps them through a small bottleneck (their 100-d "style embedding") to the flattened
tables; its last layer starts at zero and its bias at the mean of the network's named styles' tables, so
before training every painting gets the centre of the known styles.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from stylefuse.losses import functional as LF
from stylefuse.registry import NETWORKS

LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
"""VGG16 layers whose statistics describe a painting (the fast network's style layers)."""
CHANNELS = (64, 128, 256, 512)


@NETWORKS.register("style_predictor")
class StylePredictor(nn.Module):
    """Painting statistics -> one style's flattened tables.

    Args:
        outputs: D, the number of table values of one style (``FastStylizerNet.flatten_tables``).
        layers, channels: the VGG16 layers described and their widths (F = 2·Σ channels inputs).
        hidden: width of the first layer.
        bottleneck: width of the style embedding.
        style_size: long side, in pixels, at which a painting is encoded for its statistics.

    Shape: features (B, F) (see :meth:`features`) -> (B, D).
    """

    def __init__(self, outputs: int, layers: Sequence[str] = LAYERS, channels: Sequence[int] = CHANNELS,
                 hidden: int = 256, bottleneck: int = 100, style_size: int = 384) -> None:
        super().__init__()
        if len(layers) != len(channels):
            raise ValueError(f"give one width per layer, got {len(layers)} layers and {len(channels)} widths")
        self.layers, self.style_size = list(layers), style_size
        inputs = 2 * sum(channels)
        # log statistics standardised over the training paintings (set by fit_inputs): every layer counts alike
        self.register_buffer("input_shift", torch.zeros(inputs))
        self.register_buffer("input_scale", torch.ones(inputs))
        self.embed = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck))
        self.out = nn.Linear(bottleneck, outputs)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def batch_features(self, encoded: dict[str, torch.Tensor]) -> torch.Tensor:
        """The inputs (B, F) of B paintings from their VGG16 features {layer: (B, C, h, w)}: each layer's channel
        means, then its stds (tensor ops only, so it exports to ONNX with the encoder)."""
        return torch.cat([torch.cat(LF.mean_std(encoded[name]), dim=1) for name in self.layers], dim=1)

    def _normalised(self, features: torch.Tensor) -> torch.Tensor:
        return (torch.log(features.clamp_min(0) + 1e-3) - self.input_shift) / self.input_scale

    @torch.no_grad()
    def fit_inputs(self, features: torch.Tensor) -> None:
        """Standardise inputs by the log statistics of the training paintings (N, F)."""
        logs = torch.log(features.clamp_min(0) + 1e-3)
        self.input_shift.copy_(logs.mean(0))
        self.input_scale.copy_(logs.std(0).clamp_min(1e-2) if len(logs) > 1 else torch.ones_like(self.input_scale))

    @torch.no_grad()
    def start_at(self, tables: torch.Tensor) -> None:
        """Make the prediction start at ``tables`` (D,) for every input (usually the named styles' mean)."""
        nn.init.zeros_(self.out.weight)
        self.out.bias.copy_(tables)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(self._normalised(features)))
