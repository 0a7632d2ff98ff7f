"""Models: the DnCNN teacher, the spec's seed student and the real-time student family."""
from __future__ import annotations

import copy

import torch
from torch import nn

from kd.models.collapsible import CollapsibleStudent
from kd.models.dncnn import DnCNN
from kd.models.mixgrid import MixedGridStudent
from kd.models.realtime import RealtimeStudent
from kd.models.seed import SeedStudent

__all__ = ["CollapsibleStudent", "DnCNN", "MixedGridStudent", "SeedStudent", "RealtimeStudent", "build_model", "count_params", "macs_per_pixel", "describe"]

_CLASSES = {"DnCNN": DnCNN, "SeedStudent": SeedStudent, "RealtimeStudent": RealtimeStudent,
            "CollapsibleStudent": CollapsibleStudent, "MixedGridStudent": MixedGridStudent}


def build_model(arch: str, **args) -> nn.Module:
    """Builds a model from its class name and constructor arguments (as stored in checkpoints and cards)."""
    try:
        cls = _CLASSES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {sorted(_CLASSES)}") from None
    return cls(**args)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def macs_per_pixel(model: nn.Module, height: int = 64, width: int = 64) -> float:
    """Multiply-accumulates per output pixel, counted from the convs actually run on a 1x3xHxW input."""
    total = 0

    def hook(m: nn.Conv2d, _inp, out: torch.Tensor) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.numel() * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(1, 3, height, width))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total / (height * width)


def describe(model: nn.Module) -> dict:
    """Parameters and MACs per output pixel of the form that ships (re-param blocks collapsed)."""
    model = copy.deepcopy(model).cpu()  # fuse_reparam builds its convs on the CPU
    if hasattr(model, "fuse_reparam"):
        model = model.fuse_reparam()
    return {"params": count_params(model), "macs_per_pixel": round(macs_per_pixel(model))}
