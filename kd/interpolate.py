"""`sharpcam-kd interpolate`: a model between two fine-tunings of one parent, by weight interpolation.

Two checkpoints fine-tuned from the same start at a small learning rate sit close together in weight space, and the
straight line between them gives models that trade one's strengths for the other's smoothly (Wortsman et al., "Robust
fine-tuning of zero-shot models", CVPR 2022: WiSE-FT). Sitting 17 used it between the shipped plain half and the half
trained for x3 (both the folded QAT of runs/student_x4grid_webcam_s12_sharp/best.pt). Every tensor is (1 - weight) x
the first's + weight x the second's, in the training form, as WiSE-FT mixes the parameters that were trained: for a
collapsible block that is its expand and reduce weights, so the collapsed conv the export writes moves along a slightly
curved path (reduce x expand), not a straight one. Export and quantize the result as any checkpoint.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import click
import torch

from kd.checkpoint import CheckpointError, atomic_save, read_checkpoint
from kd.models import build_model

# what must agree for the line between two checkpoints to mean anything, and the fix to name where it does not
SAME_RECIPE = {
    "init": "interpolate two fine-tunings of one parent: weights trained from different starts need not be close",
    "qat": "interpolate two checkpoints that were both trained quantization-aware, or both not",
    "qat_fold_identity": "interpolate two checkpoints whose QAT rounded the body blocks the same way",
    "qat_integer_ends": "interpolate two checkpoints whose QAT rounded the ends the same way",
    "loss_on_y": "interpolate two checkpoints trained on the same planes: a luma-only model's colour weights are untrained",
}


class InterpolateError(ValueError):
    """Two checkpoints that cannot be interpolated; the message names the fix."""


def checked_weight(weight: Any) -> float:
    """`weight` as a float in 0..1, or InterpolateError."""
    value = float("nan") if isinstance(weight, bool) else weight
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InterpolateError(f"--weight {weight!r} is outside 0..1 (0 gives the first checkpoint, 1 the second): pass a weight in between")
    return value


def _parent(config: dict[str, Any]) -> str | None:
    init = config.get("init")
    return os.path.normpath(str(init)) if init else None


def interpolate_checkpoints(first: dict[str, Any], second: dict[str, Any], weight: float,
                            names: tuple[str, str] = ("first", "second")) -> dict[str, Any]:
    """(1 - weight) x `first` + weight x `second`, tensor by tensor -> a checkpoint dict: the first's arch and args, and
    as its recipe the first's, with `interpolated` naming both sources, the weight and the second's recipe; no optimizer
    or counters (it was never trained as such)."""
    a, b = names
    w = checked_weight(weight)
    if (first["arch"], first["args"]) != (second["arch"], second["args"]):
        raise InterpolateError(f"{a} is {first['arch']} {first['args']} and {b} is {second['arch']} {second['args']}: "
                               "interpolate two checkpoints of one architecture")
    cfg_a, cfg_b = dict(first.get("config") or {}), dict(second.get("config") or {})
    if _parent(cfg_a) is None:
        raise InterpolateError(f"{a} records no parent checkpoint (config init): {SAME_RECIPE['init']}")
    for key, fix in SAME_RECIPE.items():
        va, vb = (_parent(cfg_a), _parent(cfg_b)) if key == "init" else (cfg_a.get(key), cfg_b.get(key))
        if va != vb:
            raise InterpolateError(f"{a} has {key} = {cfg_a.get(key)!r} and {b} {cfg_b.get(key)!r}: {fix}")
    sa, sb = first["model"], second["model"]
    if set(sa) != set(sb):
        raise InterpolateError(f"{a} and {b} hold different tensors ({sorted(set(sa) ^ set(sb))[:3]}): interpolate two "
                               "checkpoints of one architecture")
    for k in sa:
        if sa[k].shape != sb[k].shape or sa[k].dtype != sb[k].dtype:
            raise InterpolateError(f"tensor {k} is {sa[k].dtype} {tuple(sa[k].shape)} in {a} and {sb[k].dtype} "
                                   f"{tuple(sb[k].shape)} in {b}: interpolate two checkpoints of one architecture and precision")
    # counters and other integer buffers are not weights: the first's are kept
    model = {k: torch.lerp(sa[k], sb[k], w) if sa[k].is_floating_point() else sa[k].clone() for k in sa}
    config = {**cfg_a, "interpolated": {"from": list(names), "weight": w, "second_recipe": cfg_b}}
    return {"arch": first["arch"], "args": dict(first["args"]), "model": model, "config": config}


@click.command("interpolate")
@click.argument("first", type=click.Path(dir_okay=False))
@click.argument("second", type=click.Path(dir_okay=False))
@click.option("--weight", type=float, required=True, help="The second checkpoint's share: 0 gives FIRST, 1 gives SECOND.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The checkpoint to write (.pt).")
def interpolate_command(first: str, second: str, weight: float, out: str) -> None:
    """Writes (1 - WEIGHT) x FIRST + WEIGHT x SECOND: two fine-tunings of one parent (same architecture, parent and
    rounding), tensor by tensor. Export it with `sharpcam-kd export OUT`."""
    path = Path(out)
    try:
        if path.suffix != ".pt":
            raise InterpolateError(f"--out {out} is not a .pt file: name the checkpoint to write, e.g. runs/mix/best.pt")
        if any(path.resolve() == Path(p).resolve() for p in (first, second)):
            raise InterpolateError(f"--out {out} is one of the two checkpoints read: write the blend to a new file")
        w = checked_weight(weight)
        checkpoint = interpolate_checkpoints(read_checkpoint(first), read_checkpoint(second), w, (first, second))
        # loaded back into its architecture before anything is written: a file at --out is always a usable checkpoint
        build_model(checkpoint["arch"], **checkpoint["args"]).load_state_dict(checkpoint["model"])
    except (CheckpointError, InterpolateError) as e:
        raise click.ClickException(str(e)) from None
    except (ValueError, TypeError, RuntimeError) as e:
        raise click.ClickException(f"the blend of {first} and {second} does not load into their architecture ({e}): "
                                   "interpolate two checkpoints written by this kd version") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(checkpoint, path)
    click.echo(f"wrote {path}: {1 - w:g} x {first} + {w:g} x {second}")
