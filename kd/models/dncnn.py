"""DnCNN teacher: 17 conv layers x 64 filters, BatchNorm, residual output (Zhang et al., TIP 2017)."""
from __future__ import annotations

import torch
from torch import nn


class DnCNN(nn.Module):
    """Restores a degraded image by predicting the detail it lacks.

    Input: N x C x H x W float32 in [0, 1] (any H, W). Output: same shape, input + predicted residual
    (not clipped, so that the loss sees the raw prediction).
    Layers: conv+ReLU, (depth - 2) x [conv (no bias) + BatchNorm + ReLU], conv. depth=17, width=64 gives
    ~557 K parameters and ~557 K MACs per output pixel.
    """

    def __init__(self, channels: int = 3, depth: int = 17, width: int = 64) -> None:
        super().__init__()
        if depth < 3:
            raise ValueError(f"DnCNN depth must be >= 3, got {depth}")
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width, eps=1e-4, momentum=0.05),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.channels, self.depth, self.width = channels, depth, width
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        # A zero last layer starts the model as the identity: the residual grows from nothing.
        nn.init.zeros_(self.body[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
