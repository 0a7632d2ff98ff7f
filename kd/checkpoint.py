"""Training checkpoints: torch.save dicts with at least arch (class name), args (constructor kwargs)
and model (state_dict); training adds optimizer, state, rng_states, config."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kd.models import build_model


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not a kd checkpoint; the message names the fix."""


def atomic_save(obj: dict, path: Path) -> None:
    """torch.save to path.partial, then rename: a killed run never leaves a half-written checkpoint."""
    tmp = path.with_name(path.name + ".partial")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found: pass a .pt written by kd training (e.g. runs/teacher/best.pt)")
    try:
        # weights_only: a checkpoint is tensors, numbers, strings and containers; never run a pickle's code
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which
        raise CheckpointError(f"cannot read checkpoint {path} ({type(e).__name__}): pass a .pt written by kd training") from None
    if not isinstance(ckpt, dict) or not {"arch", "args", "model"} <= set(ckpt):
        raise CheckpointError(f"{path} is not a kd checkpoint (needs keys arch, args, model): pass one written by kd training")
    return ckpt


def model_from_checkpoint(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuilds the model stored in a checkpoint (eval mode, CPU) and returns it with the dict."""
    ckpt = read_checkpoint(path)
    try:
        model = build_model(ckpt["arch"], **ckpt["args"])
        model.load_state_dict(ckpt["model"])
    except (ValueError, TypeError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {path} does not match its architecture ({e}): retrain or use a matching kd version") from None
    return model.eval(), ckpt
