"""Training losses as plain functions. All tensors N x 3 x H x W float32 in [0, 1] space."""
from __future__ import annotations

import torch
from torch.nn import functional as F


def reconstruction_loss(restored: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """MSE between the restored image and the sharp original (teacher, and the no-KD student)."""
    return F.mse_loss(restored, hr)


def distillation_loss(student_out: torch.Tensor, teacher_out: torch.Tensor, lq: torch.Tensor) -> torch.Tensor:
    """MSE between the student's residual and the frozen teacher's residual (the soft target).

    Both models output lq + residual, so this equals the MSE between their outputs; it is written
    with residuals to say what is being matched."""
    return F.mse_loss(student_out - lq, teacher_out - lq)


def student_loss(
    student_out: torch.Tensor, teacher_out: torch.Tensor, lq: torch.Tensor, hr: torch.Tensor, alpha: float
) -> torch.Tensor:
    """The spec's distillation loss (alpha = 0) plus an optional ground-truth term weighted by alpha."""
    loss = distillation_loss(student_out, teacher_out, lq)
    if alpha:
        loss = loss + alpha * reconstruction_loss(student_out, hr)
    return loss
