"""The x8 geometric self-ensemble (EDSR, Lim et al. 2017) around any fully convolutional image model."""
from __future__ import annotations

import torch
from torch import nn


class SelfEnsemble(nn.Module):
    """`net` run on the input in each of its 8 flips / transposes, each output turned back, the 8 averaged.

    Input and output N x C x H x W (any H, W `net` takes; the transposed passes see W x H), in `net`'s value
    range. A translation- and rotation-equivariant model gains ~0.1 dB this way for 8x its cost: a
    teacher's trick (it runs offline), never a real-time student's."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    @staticmethod
    def _pose(x: torch.Tensor, t: int) -> torch.Tensor:
        # the 8 elements of the square's symmetry group: an optional transpose, then flips of H and W
        if t & 4:
            x = x.transpose(2, 3)
        dims = [d for d, bit in ((2, 1), (3, 2)) if t & bit]
        return torch.flip(x, dims) if dims else x

    @staticmethod
    def _unpose(y: torch.Tensor, t: int) -> torch.Tensor:
        dims = [d for d, bit in ((2, 1), (3, 2)) if t & bit]
        y = torch.flip(y, dims) if dims else y
        return y.transpose(2, 3) if t & 4 else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acc = self._unpose(self.net(self._pose(x, 0)), 0)
        for t in range(1, 8):
            acc = acc + self._unpose(self.net(self._pose(x, t)), t)
        return acc / 8.0
