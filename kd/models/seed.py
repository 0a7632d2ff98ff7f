"""The spec's student ("seed"): 8 conv layers x 32 filters at full resolution, residual output."""
from __future__ import annotations

import torch
from torch import nn


class SeedStudent(nn.Module):
    """The original design's compact student, kept as a preset and measured honestly.

    Input: N x C x H x W float32 in [0, 1] (any H, W). Output: same shape, input + predicted residual.
    Layers: 8 convs 3x3 of `width` filters with ReLU between; BatchNorm only after layers 3 and 6.
    width=32: ~65 K parameters, ~65 K MACs per output pixel (about 2.6 FPS at 720p on 2 cores).
    """

    def __init__(self, channels: int = 3, width: int = 32, depth: int = 8, bn_after: tuple[int, ...] = (3, 6)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(1, depth + 1):
            cin = channels if i == 1 else width
            cout = channels if i == depth else width
            layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=i not in bn_after))
            if i in bn_after:
                layers.append(nn.BatchNorm2d(cout))
            if i != depth:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        self.channels, self.width, self.depth, self.bn_after = channels, width, depth, tuple(bn_after)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.zeros_(self.body[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
