"""Training losses as plain functions. All tensors N x 3 x H x W float32 in [0, 1] space."""
from __future__ import annotations

import torch
from torch.nn import functional as F

_LUMA_RGB = (0.299, 0.587, 0.114)
_CHARBONNIER_EPS = 1e-3  # ~0.25 grey levels: L1 above it, smooth below


def pixel_loss(a: torch.Tensor, b: torch.Tensor, kind: str = "mse", on_y: bool = False) -> torch.Tensor:
    """Mean pixel loss between two N x 3 x H x W images: mse, l1 or charbonnier; with `on_y`, between
    their BT.601 luma planes (the published protocol's channel, and all a luma-only student changes)."""
    if on_y:
        w = a.new_tensor(_LUMA_RGB).view(1, 3, 1, 1)
        a, b = (a * w).sum(1, keepdim=True), (b * w).sum(1, keepdim=True)
    if kind == "l1":
        return F.l1_loss(a, b)
    if kind == "charbonnier":
        return torch.sqrt((a - b) ** 2 + _CHARBONNIER_EPS**2).mean()
    return F.mse_loss(a, b)


def reconstruction_loss(restored: torch.Tensor, hr: torch.Tensor, kind: str = "mse", on_y: bool = False) -> torch.Tensor:
    """Loss between the restored image and the sharp original (teacher, and the no-KD student)."""
    return pixel_loss(restored, hr, kind, on_y)


def distillation_loss(student_out: torch.Tensor, teacher_out: torch.Tensor, lq: torch.Tensor, kind: str = "mse",
                      on_y: bool = False) -> torch.Tensor:
    """Loss (the seed's MSE by default) between the student's residual and the frozen teacher's residual.

    Both models output lq + residual, so this equals the MSE between their outputs; it is written
    with residuals to say what is being matched."""
    return pixel_loss(student_out - lq, teacher_out - lq, kind, on_y)


def student_loss(
    student_out: torch.Tensor, teacher_out: torch.Tensor, lq: torch.Tensor, hr: torch.Tensor, alpha: float,
    kind: str = "mse", on_y: bool = False,
) -> torch.Tensor:
    """The spec's distillation loss (alpha = 0) plus an optional ground-truth term weighted by alpha."""
    loss = distillation_loss(student_out, teacher_out, lq, kind, on_y)
    if alpha:
        loss = loss + alpha * reconstruction_loss(student_out, hr, kind, on_y)
    return loss


def stability_loss(out: torch.Tensor, out_perturbed: torch.Tensor, noise: torch.Tensor, kind: str = "l1",
                   on_y: bool = False) -> torch.Tensor:
    """Loss between the model's change of output under an input perturbation, f(x + n) - f(x), and the
    perturbation n itself (N x 1 x H x W, the same on every channel): 0 when a small change of the input
    passes through as it is, neither drawn larger nor smoothed away."""
    return pixel_loss(out_perturbed - out, noise.expand_as(out), kind, on_y)
