"""Two-grid collapsible student: the x2-grid twin's fine head and tail around a body that runs mostly on
the x4 grid, where a 3 x 3 conv of twice the width costs the same per output pixel.

Why: sitting 19's lent GPU showed the x2-grid twin (16 ch x 5 blocks, 12,772 parameters) capacity-bound:
4.4 million patches of 128 px left its training loss where it was. At the same ~3.3 K MACs per output
pixel this net holds ~3x the parameters and a 2x wider receptive field, and its body convs are 28 wide,
which were expected to run faster per MAC than 16 (the README's int8 curve). The fine grid keeps what the
x4-grid students lose (their tail draws each 4 x 4 block from 16 coarse channels). Measured in sitting 19
(README): no better than the twin's design at equal CPU minutes, and slower at 720p.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from kd.models.collapsible import CollapsibleConv
from kd.models.realtime import luma_unshuffle_weight


class MixedGridStudent(nn.Module):
    """Sharpens the luma of an RGB frame, on the x2 and x4 pixel-unshuffle grids.

    Input: N x 3 x H x W float32 RGB in [0, 1], H and W multiples of 4. Output: same shape, input + a luma
    residual added equally to R, G and B (Y changes by exactly the residual; chroma untouched).
    Path: Y (BT.601) -> unshuffle x2 (4 ch at H/2) -> head 3x3 (4 -> width) + ReLU -> `depth` x [3x3
    (width -> width) + input, ReLU] -> unshuffle x2 (4 width ch at H/4) -> 1x1 (-> coarse_width) + ReLU ->
    `coarse_depth` x [3x3 (coarse_width -> coarse_width) + input, ReLU] -> 1x1 (-> 4 width) -> shuffle x2
    -> + the fine features -> tail 3x3 (width -> 4) -> shuffle x2 -> + input. Every conv is trained as a
    `CollapsibleConv` and exported as the one conv it equals.
    Cost per output pixel: (9 * 4 * width * 2 + depth * 9 * width^2) / 4 + (2 * 4 * width * coarse_width
    + coarse_depth * 9 * coarse_width^2) / 16 (width 16, depth 1, coarse 28 x 5: 3,293, under SESR-M5's 3.4 K).
    """

    pad_multiple = 4

    def __init__(self, width: int = 16, depth: int = 1, coarse_width: int = 28, coarse_depth: int = 5,
                 kernel: int = 3, expand: int = 64) -> None:
        super().__init__()
        if min(width, coarse_width, expand) < 1 or depth < 0 or coarse_depth < 0 or kernel < 1 or kernel % 2 != 1:
            raise ValueError(f"bad MixedGridStudent args: width={width} depth={depth} coarse_width={coarse_width} "
                             f"coarse_depth={coarse_depth} kernel={kernel} (odd) expand={expand}")
        self.width, self.depth, self.coarse_width, self.coarse_depth = width, depth, coarse_width, coarse_depth
        self.kernel, self.expand = kernel, expand
        self.register_buffer("luma_unshuffle", luma_unshuffle_weight(2))
        self.head = CollapsibleConv(4, width, kernel, expand)
        self.body = nn.ModuleList([CollapsibleConv(width, width, kernel, expand, residual=True) for _ in range(depth)])
        self.down = CollapsibleConv(4 * width, coarse_width, 1, expand)
        self.coarse = nn.ModuleList([CollapsibleConv(coarse_width, coarse_width, kernel, expand, residual=True)
                                     for _ in range(coarse_depth)])
        self.up = CollapsibleConv(coarse_width, 4 * width, 1, expand)
        self.tail = CollapsibleConv(width, 4, kernel, expand)
        with torch.no_grad():  # start as the identity map: the residual begins at zero
            self.tail.reduce_weight.mul_(1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.pixel_shuffle(self._residual(F.conv2d(x, self.luma_unshuffle, stride=2)), 2)

    def _residual(self, unshuffled: torch.Tensor) -> torch.Tensor:
        """N x 4 x H/2 x W/2 unshuffled luma -> the residual, same shape."""
        f = F.relu(self.head(unshuffled))
        for block in self.body:
            f = F.relu(block(f))
        # fused, `down` is the strided conv that already holds the unshuffle (see _unshuffled_1x1_as_strided)
        c = F.relu(self.down(f) if isinstance(self.down, nn.Conv2d) else self.down(F.pixel_unshuffle(f, 2)))
        for block in self.coarse:
            c = F.relu(block(c))
        return self.tail(f + F.pixel_shuffle(self.up(c), 2))

    def forward_luma(self, y: torch.Tensor) -> torch.Tensor:
        """The same net on the luma plane alone: N x 1 x H x W BT.601 luma in [0, 1] -> the sharpened luma."""
        onehot = torch.eye(4, dtype=y.dtype, device=y.device).view(4, 1, 2, 2)
        return y + F.pixel_shuffle(self._residual(F.conv2d(y, onehot, stride=2)), 2)

    def fuse_reparam(self) -> "MixedGridStudent":
        """Replaces every `CollapsibleConv` by the plain conv it equals (in place): the export form."""
        if isinstance(self.head, CollapsibleConv):
            self.head, self.up, self.tail = self.head.fused(), self.up.fused(), self.tail.fused()
            self.down = _unshuffled_1x1_as_strided(self.down.fused())
            self.body = nn.ModuleList([b.fused() for b in self.body])
            self.coarse = nn.ModuleList([b.fused() for b in self.coarse])
        return self


@torch.no_grad()
def _unshuffled_1x1_as_strided(conv: nn.Conv2d) -> nn.Conv2d:
    """A 1x1 conv on pixel_unshuffle(x, 2) as the one 2x2 stride-2 conv on x it equals: one op in the ONNX graph
    instead of a Reshape / Transpose chain over the whole feature map."""
    cout, cin4 = conv.weight.shape[:2]
    strided = nn.Conv2d(cin4 // 4, cout, 2, stride=2)
    # pixel_unshuffle puts input channel c's pixel (i, j) of each 2x2 cell at channel 4 c + 2 i + j
    strided.weight.copy_(conv.weight.reshape(cout, cin4 // 4, 2, 2))
    strided.bias.copy_(conv.bias)
    return strided

