"""`sharpcam-kd interpolate`: a model between two fine-tunings of one parent, by weight interpolation.

Two checkpoints fine-tuned from the same start at a small learning rate sit close together in weight space, and the
straight line between them gives models that trade one's strengths for the other's smoothly (Wortsman et al., "Robust
fine-tuning of zero-shot models", CVPR 2022: WiSE-FT). Sitting 17 used it between the shipped plain half and the half
trained for x3 (both the folded QAT of runs/student_x4grid_webcam_s12_sharp/best.pt): a blur model that sharpens less
than the x3 half, at no extra cost per frame. Every tensor is (1 - weight) x the first's + weight x the second's, in
the training form (the collapsible blocks before collapsing); export and quantize the result as any checkpoint.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import torch

from kd.checkpoint import CheckpointError, atomic_save, model_from_checkpoint, read_checkpoint

# what must agree for the line between two checkpoints to mean anything: the same parent, and the same rounding
SAME_RECIPE = ("init", "qat", "qat_fold_identity", "qat_integer_ends", "loss_on_y")


class InterpolateError(ValueError):
    """Two checkpoints that cannot be interpolated; the message names the fix."""


def interpolate_checkpoints(first: dict[str, Any], second: dict[str, Any], weight: float,
                            names: tuple[str, str] = ("first", "second")) -> dict[str, Any]:
    """(1 - weight) x `first` + weight x `second`, tensor by tensor -> a checkpoint dict (the first's arch, args and
    recipe, the recipe noting both sources and the weight; no optimizer or counters: it was never trained as such)."""
    a, b = names
    if not (isinstance(weight, (int, float)) and math.isfinite(weight) and 0.0 <= weight <= 1.0):
        raise InterpolateError(f"--weight {weight!r} is outside 0..1 (0 gives {a}, 1 gives {b}): pass a weight in between")
    if (first["arch"], first["args"]) != (second["arch"], second["args"]):
        raise InterpolateError(f"{a} is {first['arch']} {first['args']} and {b} is {second['arch']} {second['args']}: "
                               "interpolate two checkpoints of one architecture")
    cfg_a, cfg_b = first.get("config") or {}, second.get("config") or {}
    if not cfg_a.get("init"):
        raise InterpolateError(f"{a} records no parent checkpoint (config init): interpolate two fine-tunings of one "
                               "parent, whose weights stay close; models trained apart do not interpolate")
    for key in SAME_RECIPE:
        if cfg_a.get(key) != cfg_b.get(key):
            raise InterpolateError(f"{a} has {key} = {cfg_a.get(key)!r} and {b} {cfg_b.get(key)!r}: interpolate two "
                                   "fine-tunings of one parent with the same rounding")
    sa, sb = first["model"], second["model"]
    if set(sa) != set(sb) or any(sa[k].shape != sb[k].shape for k in sa):
        raise InterpolateError(f"{a} and {b} hold different tensors: interpolate two checkpoints of one architecture")
    model = {k: torch.lerp(sa[k], sb[k], float(weight)) if sa[k].is_floating_point() else sa[k].clone() for k in sa}
    config = {**cfg_a, "interpolated": {"from": list(names), "weight": float(weight)}}
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
    if path.suffix != ".pt":
        raise click.ClickException(f"--out {out} is not a .pt file: name the checkpoint to write, e.g. runs/mix/best.pt")
    try:
        checkpoint = interpolate_checkpoints(read_checkpoint(first), read_checkpoint(second), weight, (first, second))
    except (CheckpointError, InterpolateError) as e:
        raise click.ClickException(str(e)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(checkpoint, path)
    model_from_checkpoint(path)  # loads back into its architecture, or says why not
    click.echo(f"wrote {path}: {1 - weight:g} x {first} + {weight:g} x {second}")
