"""Collapsible student: SESR/ECBSR-class luma sharpener on the x2 pixel-unshuffle grid.

Every conv is trained as a linear over-parameterised block (k x k conv to `expand` channels, then a 1x1
back down, no activation between) and computed collapsed: the block's single k x k kernel is formed
from the two factors at every forward, so a training step costs what the exported net costs (plus a
few thousand MACs for the kernel product), while the optimiser still sees the over-parameterisation
that makes these narrow nets train well (SESR, MLSys 2022). Export replaces each block by the one conv
it equals; the identity of residual blocks stays a separate add, or with `fold_identity` goes into the
kernel so that int8 rounds each block once (see `CollapsibleConv`).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from kd.models.realtime import ConvPlusInput, luma_unshuffle_weight, with_identity


# Quantization-aware fine-tuning (`kd train` with `qat = true`): the forward then rounds what
# `kd quantize` will round, so the weights learn to sit where int8 can hold them. Straight-through
# estimators: the rounding passes gradients as if it were the identity.
WEIGHT_LEVELS = 64  # kd quantize's default 7-bit weights: int8 in [-64, 64], symmetric per output channel
Y_STEPS = 219  # the uint8 I420 Y plane holds luma in [0, 1] as 16 + 219 y (vcam/card.py Y_BLACK, Y_SPAN)


def fake_quant_weight(weight: torch.Tensor, levels: int = WEIGHT_LEVELS) -> torch.Tensor:
    """`weight` (cout x cin x k x k) rounded as symmetric per-output-channel int8 in [-levels, levels]."""
    scale = weight.detach().abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12) / levels
    return weight + ((weight / scale).round().clamp(-levels, levels) * scale - weight).detach()


class FakeQuantActivation(nn.Module):
    """uint8 per-tensor asymmetric rounding of an activation (onnxruntime's QDQ activations), over a
    [low, high] range tracked as a moving average of batch min / max while training (frozen in eval).
    Off (the identity) until `enabled`."""

    def __init__(self, momentum: float = 0.01) -> None:
        super().__init__()
        self.momentum, self.enabled = momentum, False
        # not in the state dict: checkpoints stay loadable both ways, and `kd quantize` calibrates anew
        self.register_buffer("low", torch.tensor(0.0), persistent=False)
        self.register_buffer("high", torch.tensor(0.0), persistent=False)
        self.register_buffer("seen", torch.tensor(False), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        if self.training:
            with torch.no_grad():
                lo, hi = x.min().clamp(max=0.0), x.max().clamp(min=0.0)  # the range always holds 0, as in QDQ
                if not bool(self.seen):
                    self.low.copy_(lo), self.high.copy_(hi), self.seen.fill_(True)
                else:
                    self.low.lerp_(lo, self.momentum), self.high.lerp_(hi, self.momentum)
        scale = ((self.high - self.low) / 255.0).clamp_min(1e-12)
        zero = (-self.low / scale).round()
        q = ((x / scale).round() + zero).clamp(0, 255)
        return x + ((q - zero) * scale - x).detach()


class CollapsibleConv(nn.Module):
    """k x k conv (cin -> expand) then 1x1 (expand -> cout), linear, evaluated as one k x k conv
    (cin -> cout); with `residual` (cin == cout) the block adds its input.

    Input N x cin x H x W, output N x cout x H x W (same padding), any real range.

    `fold_identity` (residual blocks): the input is added as a 1 at each kernel's centre tap instead of
    after the conv, so int8 rounds the block's output once, after the sum, instead of the conv's output
    and then the sum. Measured on the x4-grid students: the conv outputs' roundings were most of the
    int8 flicker on a still picture (README "Sitting 10"), and the weights lost nothing by the 1 beside
    them (unlike `RealtimeStudent`'s tiny weights, see `ConvPlusInput`)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, expand: int = 64, residual: bool = False) -> None:
        super().__init__()
        if kernel % 2 != 1 or expand < 1 or (residual and cin != cout):
            raise ValueError(f"bad CollapsibleConv: kernel {kernel} must be odd, expand {expand} >= 1, "
                             f"residual needs cin == cout ({cin}, {cout})")
        self.cin, self.cout, self.kernel, self.residual = cin, cout, kernel, residual
        self.fake_quant = False  # round the collapsed kernel as int8 (quantization-aware fine-tuning)
        self.fold_identity = False  # qat: round kernel + identity and the sum, as a folded export is rounded
        self.out_quant = FakeQuantActivation()  # the conv output, quantized apart from a residual add
        self.expand_weight = nn.Parameter(torch.empty(expand, cin, kernel, kernel))
        self.expand_bias = nn.Parameter(torch.zeros(expand))
        self.reduce_weight = nn.Parameter(torch.empty(cout, expand))
        self.reduce_bias = nn.Parameter(torch.zeros(cout))
        nn.init.kaiming_uniform_(self.expand_weight, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.reduce_weight, a=math.sqrt(5))

    def collapsed(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The one k x k kernel (cout x cin x k x k) and bias (cout) this block equals, identity excluded."""
        weight = torch.einsum("oe,eikl->oikl", self.reduce_weight, self.expand_weight)
        bias = self.reduce_weight @ self.expand_bias + self.reduce_bias
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.collapsed()
        folded = self.residual and self.fold_identity
        if folded:
            weight = with_identity(weight)
        if self.fake_quant:
            weight = fake_quant_weight(weight)
        y = F.conv2d(x, weight, bias, padding=self.kernel // 2)
        if folded:  # the sum is rounded by the ReLU after it (the model's relu_quant), as in the export
            return y
        y = self.out_quant(y)
        return y + x if self.residual else y

    @torch.no_grad()
    def fused(self, fold_identity: bool = False) -> nn.Module:
        """A plain nn.Conv2d equal to this block; a residual block's input stays an add after it
        (`ConvPlusInput`) unless `fold_identity` puts it in the kernel."""
        weight, bias = self.collapsed()
        conv = nn.Conv2d(self.cin, self.cout, self.kernel, padding=self.kernel // 2)
        conv.weight.copy_(with_identity(weight) if self.residual and fold_identity else weight)
        conv.bias.copy_(bias)
        return ConvPlusInput(conv) if self.residual and not fold_identity else conv


class LumaPlane(nn.Module):
    """`model.forward_luma` as a module (what `kd export --planes Y` traces): N x 1 x H x W luma in [0, 1]
    -> sharpened luma, same shape."""

    def __init__(self, model: "CollapsibleStudent") -> None:
        super().__init__()
        self.model = model

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.model.forward_luma(y)


class CollapsibleStudent(nn.Module):
    """Sharpens the luma of an RGB frame on the x`scale` pixel-unshuffle grid.

    Input: N x 3 x H x W float32 RGB in [0, 1], H and W multiples of `scale`. Output: same shape,
    input + a luma residual added equally to R, G and B (Y changes by exactly the residual; chroma
    untouched).
    Path: Y (BT.601) -> unshuffle x s (s^2 channels at H/s x W/s) -> head conv (s^2 -> width) + ReLU ->
    `depth` x [conv (width -> width) + input, ReLU] -> + head features -> tail conv (width -> s^2) ->
    pixel-shuffle x s -> + input. Body convs `kernel` x `kernel`, head and tail `outer_kernel` x
    `outer_kernel` (SESR's 5 x 5 widens the receptive field where the convs are cheap, having few
    channels on one side); all trained as `CollapsibleConv`.
    Cost: (2 s^2 width outer_kernel^2 + depth width^2 kernel^2) / s^2 MACs per output pixel (scale 2,
    kernel 3, width 16: depth 5 and 3 x 3 outer 3,168, depth 4 and 5 x 5 outer 3,104, both under
    SESR-M5's 3.4 K; scale 4 buys 4x the width^2 at the same cost, which the CPU runs far more
    efficiently: wide convs on fewer pixels).
    """

    def __init__(self, width: int = 16, depth: int = 5, kernel: int = 3, expand: int = 64, scale: int = 2,
                 outer_kernel: int | None = None) -> None:
        super().__init__()
        outer_kernel = kernel if outer_kernel is None else outer_kernel
        if width < 1 or depth < 0 or kernel % 2 != 1 or outer_kernel % 2 != 1 or expand < 1 or scale not in (2, 4):
            raise ValueError(f"bad CollapsibleStudent args: width={width} depth={depth} kernel={kernel} "
                             f"outer_kernel={outer_kernel} (odd) expand={expand} scale={scale} (2 or 4)")
        self.width, self.depth, self.kernel, self.expand = width, depth, kernel, expand
        self.outer_kernel = outer_kernel
        self.scale = scale  # the unshuffle factor: H and W must be multiples of it (the card's pad_multiple)
        s2 = scale * scale
        self.register_buffer("luma_unshuffle", luma_unshuffle_weight(scale))
        self.head = CollapsibleConv(s2, width, outer_kernel, expand)
        self.body = nn.ModuleList([CollapsibleConv(width, width, kernel, expand, residual=True) for _ in range(depth)])
        self.tail = CollapsibleConv(width, s2, outer_kernel, expand)
        self.relu_quant = nn.ModuleList([FakeQuantActivation() for _ in range(depth + 1)])  # qat only
        self.skip_quant = FakeQuantActivation()  # qat of the integer ends only: the head-to-tail sum
        self.y_grid_ends = False  # qat of the integer ends only: input and residual on I420's 219 steps
        with torch.no_grad():  # start as the identity map: the residual begins at zero
            self.tail.reduce_weight.mul_(1e-3)

    def set_fake_quant(self, enabled: bool, integer_ends: bool = False, fold_identity: bool = False) -> "CollapsibleStudent":
        """Quantization-aware fine-tuning on or off: the body convs' weights and outputs and every ReLU
        output rounded as `kd quantize` rounds them. With `integer_ends`, also what an all-integer
        export rounds (`kd quantize` with head and tail in int8, recipes/quantize_cs4_int.toml): the
        input luma on the uint8 Y plane's grid, the head's and tail's weights, the head-to-tail sum and
        the residual on whole grey levels around 128 (the export's fixed grid, not a calibrated range).
        With `fold_identity`, the body blocks are rounded as `fuse_reparam(fold_identity=True)` exports
        them: kernel + identity as one int8 kernel, the sum rounded once."""
        if not isinstance(self.head, CollapsibleConv):
            raise ValueError("set_fake_quant needs the training form (before fuse_reparam)")
        for block in self.body:
            block.fake_quant = enabled
            block.fold_identity = enabled and fold_identity
            block.out_quant.enabled = enabled and not fold_identity  # a folded block's conv output is the sum
        for q in self.relu_quant:
            q.enabled = enabled
        ends = enabled and integer_ends
        self.head.fake_quant = self.tail.fake_quant = ends
        self.skip_quant.enabled = self.y_grid_ends = ends
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.pixel_shuffle(self._residual(F.conv2d(x, self.luma_unshuffle, stride=self.scale)), self.scale)

    def _residual(self, unshuffled: torch.Tensor) -> torch.Tensor:
        """Head, body and tail on the unshuffled luma: N x s^2 x H/s x W/s -> the residual, same shape."""
        if self.y_grid_ends:  # what the uint8 Y plane can hold (straight-through)
            unshuffled = unshuffled + ((unshuffled * Y_STEPS).round() / Y_STEPS - unshuffled).detach()
        f0 = self.relu_quant[0](F.relu(self.head(unshuffled)))
        f = f0
        for block, quant in zip(self.body, self.relu_quant[1:]):
            f = quant(F.relu(block(f)))
        residual = self.tail(self.skip_quant(f + f0))
        if self.y_grid_ends:  # as the export rounds it: whole grey levels, uint8 around 128 (straight-through)
            residual = residual + ((residual * Y_STEPS).round().clamp(-128, 127) / Y_STEPS - residual).detach()
        return residual

    def forward_luma(self, y: torch.Tensor) -> torch.Tensor:
        """The same net on the luma plane alone: N x 1 x H x W BT.601 luma in [0, 1] (I420's Y as
        (Y - 16) / 219) -> the sharpened luma, equal to the luma of `forward` on the RGB frame."""
        s = self.scale
        onehot = torch.eye(s * s, dtype=y.dtype, device=y.device).view(s * s, 1, s, s)  # unshuffle as one strided conv
        return y + F.pixel_shuffle(self._residual(F.conv2d(y, onehot, stride=s)), s)

    def fuse_reparam(self, fold_identity: bool = False) -> "CollapsibleStudent":
        """Replaces every `CollapsibleConv` by the plain conv it equals (in place): the export form.
        `fold_identity`: each body block becomes one conv with its input in the kernel (see
        `CollapsibleConv`), so the export is a plain chain of conv + ReLU that int8 rounds once a block."""
        if isinstance(self.head, CollapsibleConv):
            self.head = self.head.fused()
            self.body = nn.ModuleList([b.fused(fold_identity) for b in self.body])
            self.tail = self.tail.fused()
        elif fold_identity and any(not isinstance(b, nn.Conv2d) for b in self.body):
            raise ValueError("fuse_reparam(fold_identity=True) needs the training form: this model is already fused with its identities apart")
        for q in [*self.relu_quant, self.skip_quant]:  # the export form is the plain float net; kd quantize does the rounding
            q.enabled = False
        self.y_grid_ends = False
        return self
