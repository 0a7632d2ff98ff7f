"""Real-time student: luma-only, works at 1/scale resolution via pixel-unshuffle, residual add."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

# BT.601 luma weights for RGB in [0, 1]; the +16/255 offset cancels in a residual.
_LUMA_RGB = (0.299, 0.587, 0.114)


def luma_unshuffle_weight(scale: int) -> torch.Tensor:
    """The fixed strided conv kernel (scale^2 x 3 x scale x scale) that takes BT.601 luma and
    pixel-unshuffles it in one op: a single cheap op in ONNX, where a Mul/ReduceSum/Reshape/Transpose
    chain at full resolution cost more than the whole body."""
    w = torch.zeros(scale * scale, 3, scale, scale)
    for i in range(scale):
        for j in range(scale):
            w[i * scale + j, :, i, j] = torch.tensor(_LUMA_RGB)
    return w


def with_identity(weight: torch.Tensor) -> torch.Tensor:
    """`weight` (c x c x k x k, k odd) plus the conv's input as a kernel: a 1 at each channel's own centre
    tap, so conv(x, result) == conv(x, weight) + x. Out of place, differentiable, in `weight`'s dtype and device."""
    eye = torch.zeros_like(weight)
    idx = torch.arange(weight.shape[0], device=weight.device)
    eye[idx, idx, weight.shape[2] // 2, weight.shape[3] // 2] = 1.0
    return weight + eye


class RepConv3x3(nn.Module):
    """3x3 conv trained with extra 1x1 and identity branches (ECBSR/SESR style), fused to one 3x3
    conv by `fused()` before export, so the extra capacity is free at inference."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv3 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv1 = nn.Conv2d(cin, cout, 1)
        self.identity = cin == cout
        nn.init.zeros_(self.conv1.weight)
        nn.init.zeros_(self.conv1.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(x) + self.conv1(x)
        return y + x if self.identity else y

    @torch.no_grad()
    def fused(self, keep_identity: bool = False) -> nn.Module:
        """One 3x3 conv; with `keep_identity`, the identity branch stays a separate add (see
        `ConvPlusInput`) instead of a 1.0 on the kernel's diagonal centre."""
        w = self.conv3.weight.clone()
        w[:, :, 1:2, 1:2] += self.conv1.weight
        if self.identity and not keep_identity:
            w = with_identity(w)
        conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
        conv.weight.copy_(w)
        conv.bias.copy_(self.conv3.bias + self.conv1.bias)
        return ConvPlusInput(conv) if self.identity and keep_identity else conv


class ConvPlusInput(nn.Module):
    """conv(x) + x. A fused identity branch puts 1.0 beside weights ~0.01 in each output channel, and
    int8 per-channel weights then quantize the small ones at ~1/127 steps: measured -0.46 dB (Set5)
    for one such block. Kept as an add, the weights quantize finely; onnxruntime fuses the add into the
    conv in fp32, so it costs nothing there."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + x


class RealtimeStudent(nn.Module):
    """Sharpens the luma of an RGB frame with a few narrow convs at 1/scale resolution.

    Input: N x 3 x H x W float32 RGB in [0, 1], H and W multiples of `scale`. Output: same shape,
    input + a luma residual added equally to R, G and B (which changes Y by exactly the residual and
    leaves the colour difference signals untouched).
    Path: Y = BT.601 luma -> pixel-unshuffle(scale) -> conv3x3(scale^2 -> width) + ReLU ->
    `depth` x [conv3x3(width -> width) + ReLU] -> conv3x3(width -> scale^2) -> pixel-shuffle.
    Cost ~ 9 * (2 * scale^2 * width + depth * width^2) / scale^2 MACs per output pixel
    (scale 4, width 32, depth 4: ~2.9 K).
    """

    def __init__(self, scale: int = 4, width: int = 32, depth: int = 4, reparam: bool = False) -> None:
        super().__init__()
        if scale < 1 or width < 1 or depth < 0:
            raise ValueError(f"bad RealtimeStudent args: scale={scale} width={width} depth={depth}")
        self.scale, self.width, self.depth, self.reparam = scale, width, depth, reparam
        s2 = scale * scale
        self.register_buffer("luma_unshuffle", luma_unshuffle_weight(scale))
        make = RepConv3x3 if reparam else (lambda cin, cout: nn.Conv2d(cin, cout, 3, padding=1))
        self.head = make(s2, width)
        self.body = nn.ModuleList([make(width, width) for _ in range(depth)])
        self.tail = nn.Conv2d(width, s2, 3, padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.tail.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = F.relu(self.head(F.conv2d(x, self.luma_unshuffle, stride=self.scale)))
        for conv in self.body:
            f = F.relu(conv(f))
        residual = F.pixel_shuffle(self.tail(f), self.scale)
        return x + residual

    def fuse_reparam(self, keep_identity: bool = True) -> "RealtimeStudent":
        """Collapses every training-time multi-branch block into one 3x3 conv (in place); with
        `keep_identity`, blocks with an identity branch become conv + add (`ConvPlusInput`)."""
        if self.reparam:
            self.head = self.head.fused(keep_identity)
            self.body = nn.ModuleList([c.fused(keep_identity) for c in self.body])
            self.reparam = False
        return self
