"""`kd export`: a training checkpoint -> an inference ONNX model (dynamic H/W) + its model card.

Steps: rebuild the model from the checkpoint; collapse re-param blocks (`fuse_reparam`); fold every
BatchNorm into the conv before it; export with opset 17, input "input", output "output", batch 1 and
dynamic height/width; `onnx.checker`; parity against the *unfused* torch model with onnxruntime at
shapes other than the export shape (max abs error <= 1e-4 in [0, 1]); write the card of
export/README.md. Files are written as `X.partial` and renamed only when everything passed.

Exporter choice: the TorchScript exporter (`dynamo=False`). On today's models both exporters give
the same graph after onnxscript's optimizer (RealtimeStudent: 7 Conv, 5 Relu, DepthToSpace, Add;
DnCNN: 17 Conv, 16 Relu, Add), but the dynamo exporter in torch 2.13 only implements opset >= 18 and
reaches 17 through a fallback version conversion, names the axes s0/s53, takes ~4x longer and is
noisy; with the earlier Mul/ReduceSum + pixel_unshuffle student it also built the unshuffle from
Shape/Concat/Div chains (28 nodes vs 16). TorchScript emits opset 17 natively with named dynamic axes.
`--exporter dynamo` remains available (the same checks apply) for when TorchScript export goes away.
The card is read and written by vcam/card.py (the runtime's own parser); `load_card` and `ort_session`
here are shared with evaluate and quantize.
"""
from __future__ import annotations

import io
import json
import math
import os
import warnings
from contextlib import redirect_stdout
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from kd.config import ONNX_OPSET, SHARED_DATASETS, ConfigError, ExportConfig, merge
from kd.models import CollapsibleStudent, MixedGridStudent, RealtimeStudent, describe
from kd.checkpoint import CheckpointError
from vcam.card import Y_BLACK, Y_SPAN, CardError, card_fields, read_card, write_card
from kd.checkpoint import model_from_checkpoint as load_checkpoint
from kd.models.ensemble import SelfEnsemble



class ExportError(ValueError):
    """A checkpoint, model or card that cannot be exported or used; the message names the fix."""


# ---------------------------------------------------------------- checkpoints and model preparation


def pad_multiple_of(model: nn.Module) -> int:
    """The H/W multiple a model needs: the students' pixel-unshuffle factor (the two-grid student's coarser one), else 1."""
    if isinstance(model, MixedGridStudent):
        return model.pad_multiple
    return int(model.scale) if isinstance(model, (RealtimeStudent, CollapsibleStudent)) else 1


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One conv equal to conv followed by BatchNorm in eval mode (running statistics):
    w' = w * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta."""
    if bn.running_mean is None or bn.running_var is None:
        raise ExportError("BatchNorm without running statistics cannot be folded: train with track_running_stats=True")
    gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
    beta = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
    factor = gamma / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
        conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode,
    )
    fused.weight.copy_(conv.weight * factor.view(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.copy_((bias - bn.running_mean) * factor + beta)
    return fused


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Replaces every (Conv2d, BatchNorm2d) pair that follows each other in an nn.Sequential by one conv
    (in place, eval statistics). Refuses a model that still has a BatchNorm afterwards."""
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                seq._modules[a] = fold_conv_bn(conv, bn)
                seq._modules[b] = nn.Identity()
    left = [n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if left:
        raise ExportError(f"BatchNorm not directly after a conv in an nn.Sequential ({', '.join(left)}): cannot fold it")
    return model


def inference_model(model: nn.Module, fold_identity: bool = False) -> nn.Module:
    """The deployable form, in place: eval mode, re-param blocks fused (a collapsible student's body
    identities folded into its kernels with `fold_identity`), BatchNorm folded."""
    model.eval()
    if isinstance(model, CollapsibleStudent):
        model.fuse_reparam(fold_identity)
    elif fold_identity:
        raise ExportError(f"--fold-identity is for the collapsible students, not {type(model).__name__}: "
                          f"drop it (--keep-identity, or fold_identity = false in the TOML)")
    elif hasattr(model, "fuse_reparam"):
        model.fuse_reparam()
    return fold_batchnorm(model)


def qat_folded(ckpt: dict[str, Any]) -> bool | None:
    """How the checkpoint's quantization-aware training rounded its body blocks: True with the identities
    folded, False with them as adds, None when it had no QAT."""
    recipe = ckpt.get("config") or {}
    return bool(recipe.get("qat_fold_identity")) if recipe.get("qat") else None


def fold_identity_of(cfg: ExportConfig, ckpt: dict[str, Any]) -> bool:
    """The export's form: as asked, else as the checkpoint's quantization-aware training rounded it."""
    return cfg.fold_identity if cfg.fold_identity is not None else bool(qat_folded(ckpt))


# ---------------------------------------------------------------- ONNX


def export_onnx(model: nn.Module, path: Path, height: int, width: int, opset: int = ONNX_OPSET, exporter: str = "torchscript",
                channels: int = 3) -> None:
    """Writes `model` (already in inference form) as ONNX: input "input" 1 x channels x height x width
    float32, output "output" of the same shape, H and W dynamic, then cleans the graph (identities and
    constants folded by onnxscript's optimizer) and names the axes "height"/"width" on both ends."""
    x = torch.rand(1, channels, height, width, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(
                model, (x,), str(path), input_names=["input"], output_names=["output"], opset_version=opset,
                dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}},
                do_constant_folding=True, dynamo=False,
            )
        elif exporter == "dynamo":
            dim = torch.export.Dim.DYNAMIC
            torch.onnx.export(
                model, (x,), str(path), input_names=["input"], output_names=["output"], opset_version=opset,
                dynamic_shapes=({2: dim, 3: dim},), dynamo=True, external_data=False, verbose=False,
            )
        else:
            raise ExportError(f"exporter must be torchscript or dynamo, not {exporter!r}")
        from onnxscript import optimizer

        graph = optimizer.optimize(onnx.load(str(path)))
    for value in (graph.graph.input[0], graph.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        dims[0].Clear()
        dims[0].dim_value = 1
        for d, name in zip(dims[2:], ("height", "width")):
            d.Clear()
            d.dim_param = name
    opset_found = {o.domain: o.version for o in graph.opset_import}.get("", None)
    if opset_found != opset:
        raise ExportError(f"exported opset {opset_found} instead of {opset}: use the torchscript exporter")
    graph.producer_name = "sharpcam kd export"
    onnx.save(graph, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def luma_u8_io(path: Path) -> None:
    """Turns a float luma model (1 x 1 x H x W in [0, 1]) into one on the I420 Y plane, in place: uint8
    in through DequantizeLinear ((Y - 16) / 219), uint8 out through QuantizeLinear (x 219 + 16, rounded
    half to even, saturated). Both are single ONNX ops, so no full-resolution float tensor leaves the
    model and onnxruntime fuses them with the int8 QDQ of a quantized body."""
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    (inp,), (out,) = g.input, g.output
    for node in g.node:
        node.input[:] = ["luma_f32" if n == inp.name else n for n in node.input]
        node.output[:] = ["sharp_f32" if n == out.name else n for n in node.output]
    g.initializer.extend([
        numpy_helper.from_array(np.array(1.0 / Y_SPAN, np.float32), "luma_scale"),
        numpy_helper.from_array(np.array(Y_BLACK, np.uint8), "luma_black"),
    ])
    g.node.insert(0, helper.make_node("DequantizeLinear", [inp.name, "luma_scale", "luma_black"], ["luma_f32"], name="y_u8_to_f32"))
    g.node.append(helper.make_node("QuantizeLinear", ["sharp_f32", "luma_scale", "luma_black"], [out.name], name="y_f32_to_u8"))
    inp.type.tensor_type.elem_type = TensorProto.UINT8
    out.type.tensor_type.elem_type = TensorProto.UINT8
    _cancel_luma_requantization(g, inp.name, out.name)
    onnx.save(model, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def _cancel_luma_requantization(g, in_name: str, out_name: str) -> None:
    """An int8 body quantized on the Y plane's own grid (`kd quantize` with integer ends) starts with
    QuantizeLinear(DequantizeLinear(Y)) and ends with QuantizeLinear(DequantizeLinear(x)) at the same
    scale and zero point: both are the identity, so the uint8 plane goes straight into the integer graph
    and its uint8 result straight out (two full-resolution passes fewer)."""
    from onnx import numpy_helper

    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    on_grid = lambda n: (np.isclose(consts.get(n.input[1], np.nan), 1.0 / Y_SPAN, rtol=1e-6)
                         and len(n.input) > 2 and consts.get(n.input[2]) is not None
                         and consts[n.input[2]].dtype == np.uint8 and int(consts[n.input[2]]) == Y_BLACK)
    users = lambda t: [n for n in g.node if t in n.input]
    # input: Q nodes on the grid reading luma_f32 become the uint8 input itself
    for q in [n for n in users("luma_f32") if n.op_type == "QuantizeLinear" and on_grid(n)]:
        for n in g.node:
            n.input[:] = [in_name if t == q.output[0] else t for t in n.input]
        g.node.remove(q)
    if not users("luma_f32"):
        g.node.remove(next(n for n in g.node if n.name == "y_u8_to_f32"))
    # output: a DQ on the grid producing sharp_f32, its input made by one node used nowhere else
    dq = next((n for n in g.node if "sharp_f32" in n.output), None)
    if dq is not None and dq.op_type == "DequantizeLinear" and on_grid(dq) and users(dq.input[0]) == [dq] \
            and users("sharp_f32") == [next(n for n in g.node if n.name == "y_f32_to_u8")]:
        producer = next(n for n in g.node if dq.input[0] in n.output)
        producer.output[:] = [out_name if t == dq.input[0] else t for t in producer.output]
        g.node.remove(dq)
        g.node.remove(next(n for n in g.node if n.name == "y_f32_to_u8"))
    used = {t for n in g.node for t in n.input}
    kept = [t for t in g.initializer if t.name in used]  # the ends' scale and zero point, if both went
    del g.initializer[:]
    g.initializer.extend(kept)


def strip_luma_u8_io(src: Path, dst: Path) -> None:
    """The inverse of `luma_u8_io`: the float luma model (1 x 1 x H x W in [0, 1]) inside a Y-plane
    export, written to `dst` (what int8 calibration and quantization work on)."""
    from onnx import TensorProto

    model = onnx.load(str(src))
    g = model.graph
    (inp,), (out,) = g.input, g.output
    ends = {n.name: n for n in g.node if n.name in ("y_u8_to_f32", "y_f32_to_u8")}
    if len(ends) != 2:
        raise ExportError(f"{src} has no uint8 Y-plane ends (y_u8_to_f32, y_f32_to_u8): not a `kd export --planes Y` model; fix: re-export the checkpoint with `sharpcam-kd export CKPT --planes Y`")
    for n in ends.values():
        g.node.remove(n)
    for node in g.node:
        node.input[:] = [inp.name if n == "luma_f32" else n for n in node.input]
        node.output[:] = [out.name if n == "sharp_f32" else n for n in node.output]
    kept = [t for t in g.initializer if t.name not in ("luma_scale", "luma_black")]
    del g.initializer[:]
    g.initializer.extend(kept)
    inp.type.tensor_type.elem_type = TensorProto.FLOAT
    out.type.tensor_type.elem_type = TensorProto.FLOAT
    onnx.save(model, str(dst))
    onnx.checker.check_model(str(dst), full_check=True)


def rgb_to_y_u8(rgb_nchw: np.ndarray) -> np.ndarray:
    """1 x 3 x H x W float RGB in [0, 1] -> 1 x 1 x H x W uint8 limited-range BT.601 luma (vcam/card.py)."""
    y = 0.299 * rgb_nchw[:, 0:1] + 0.587 * rgb_nchw[:, 1:2] + 0.114 * rgb_nchw[:, 2:3]
    return np.clip(np.rint(Y_BLACK + Y_SPAN * y), 0, 255).astype(np.uint8)


@torch.no_grad()
def check_parity_luma(reference: nn.Module, onnx_path: str | Path, inputs: list[np.ndarray], threads: int = 2) -> float:
    """Max abs difference in Y levels between the torch luma form (`reference.forward_luma`, eval) on the
    Y planes of `inputs`, rounded and saturated like the model's uint8 output, and onnxruntime."""
    sess = ort_session(onnx_path, threads)
    worst = 0.0
    for x in inputs:
        y_u8 = rgb_to_y_u8(x)
        luma = torch.from_numpy((y_u8.astype(np.float32) - Y_BLACK) / Y_SPAN)
        want = np.clip(np.rint(reference.forward_luma(luma).numpy() * Y_SPAN + Y_BLACK), 0, 255)
        got = sess.run(["output"], {"input": y_u8})[0]
        if got.shape != want.shape or got.dtype != np.uint8:
            raise ExportError(f"ONNX output {got.dtype} {got.shape} is not uint8 {want.shape}: the export is broken")
        worst = max(worst, float(np.abs(got.astype(np.float64) - want).max()))
    return worst


def ort_session(onnx_path: str | Path, threads: int = 2) -> ort.InferenceSession:
    """A CPU onnxruntime session with `threads` intra-op threads and every graph optimisation."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(str(onnx_path), sess_options=so, providers=["CPUExecutionProvider"])


def parity_inputs(sizes: tuple[tuple[int, int], ...]) -> list[np.ndarray]:
    """Deterministic test cards, 1 x 3 x H x W float32 in [0, 1]: a zone plate (every frequency up to
    Nyquist), colour gradients and hard edges, so that each conv sees full-range, full-band input."""
    out = []
    for h, w in sizes:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        r2 = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / max(h, w)
        zone = 0.5 + 0.5 * np.cos(math.pi * r2)
        edges = ((xx // 7 + yy // 5) % 2).astype(np.float64)
        img = np.stack([zone, 0.6 * xx / w + 0.4 * edges, 0.5 * yy / h + 0.5 * (1 - zone) * edges])
        out.append(np.clip(img, 0.0, 1.0).astype(np.float32)[None])
    return out


@torch.no_grad()
def check_parity(reference: nn.Module, onnx_path: str | Path, inputs: list[np.ndarray], threads: int = 2) -> float:
    """Max abs difference between torch `reference` (eval) and onnxruntime over `inputs`
    (each 1 x 3 x H x W float32 in [0, 1]); outputs compared after clipping to [0, 1]."""
    sess = ort_session(onnx_path, threads)
    worst = 0.0
    for x in inputs:
        want = reference(torch.from_numpy(x)).clamp(0, 1).numpy()
        got = np.clip(sess.run(["output"], {"input": x})[0], 0, 1)
        if got.shape != want.shape:
            raise ExportError(f"ONNX output shape {got.shape} differs from torch {want.shape}: the export is broken")
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


# ---------------------------------------------------------------- cards


def load_card(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Reads and verifies a model card (or the card beside an .onnx) with the runtime's parser
    (vcam/card.py). Returns (the card's JSON object, absolute path of the ONNX file)."""
    try:
        card = read_card(path)
    except CardError as e:
        raise ExportError(str(e)) from None
    return card.raw, card.onnx_path


def portable_path(path: str) -> str:
    """A path under ../shared/datasets written as such (cards ship; this machine's layout does not)."""
    try:
        return str(Path("../shared/datasets") / Path(path).resolve().relative_to(SHARED_DATASETS.resolve()))
    except ValueError:
        return path


def training_info(ckpt: dict[str, Any]) -> dict[str, Any]:
    """What the card says about training: steps, epochs, CPU-hours, data and recipe, from the checkpoint.

    kd/train.py keeps its counters in ckpt["state"] (step, epoch, best_val_psnr, history, train_seconds,
    cpu_seconds = process CPU time, all threads); top-level keys are accepted too."""
    cfg = dict(ckpt.get("config") or {})
    if "data_dirs" in cfg:
        cfg["data_dirs"] = [portable_path(d) for d in cfg["data_dirs"]]
    state = {**{k: ckpt[k] for k in ("step", "epoch", "best_val_psnr", "history") if k in ckpt}, **(ckpt.get("state") or {})}
    history = state.get("history") or []
    info: dict[str, Any] = {
        "steps": state.get("step"),
        "epochs": state.get("epoch"),
        "best_val_psnr": state.get("best_val_psnr"),
        "stopped": state.get("stopped"),
        "mode": cfg.get("mode"),
        "data": list(cfg.get("data_dirs", [])),
        "degradation": {k: cfg.get(k) for k in ("degrade_scales", "jpeg_quality", "noise_sigma") if k in cfg},
        "teacher": cfg.get("teacher") or ckpt.get("teacher"),
        "alpha": cfg.get("alpha") if cfg.get("mode") == "distill" else None,
    }
    if "train_seconds" in state:
        info["wall_hours"] = round(float(state["train_seconds"]) / 3600, 3)
    if "cpu_seconds" in state:
        info["cpu_hours"] = round(float(state["cpu_seconds"]) / 3600, 3)
    if history and isinstance(history[-1], dict):
        info["last_epoch"] = history[-1]
        # where the curve stands: val Y-PSNR after every epoch, [step, dB, lr]
        info["val_psnr_curve"] = [[h.get("step"), round(float(h["val_psnr"]), 3), h.get("lr")]
                                  for h in history if isinstance(h, dict) and "val_psnr" in h]
    if isinstance(cfg.get("interpolated"), dict):  # a blend (kd/interpolate.py): the rest of the recipe is its first source's
        info["interpolated"] = {k: cfg["interpolated"].get(k) for k in ("from", "weight")}
    info["recipe"] = cfg
    return {k: v for k, v in info.items() if v is not None}


def metrics_from_eval(eval_json: str | Path, source: str | Path | None, label: str | None) -> dict[str, Any]:
    """The row of a `kd evaluate` JSON for this model: by `label`, else the row whose source is `source`."""
    p = Path(eval_json)
    if not p.is_file():
        raise ExportError(f"evaluation JSON {p} not found: run `kd evaluate` first or drop --metrics")
    data = _read_eval_json(p)
    rows = data["models"]
    if label is not None:
        found = [r for r in rows if r.get("label") == label]
    else:
        want = str(Path(source).resolve()) if source is not None else None
        found = [r for r in rows if r.get("source") == want]
    if len(found) != 1:
        labels = ", ".join(repr(r.get("label")) for r in rows)
        raise ExportError(f"{p} has {len(found)} rows for this model: pass --metrics-label (one of {labels})")
    # Means only: the per-image lists stay in the evaluation JSON.
    row = {k: v for k, v in found[0].items() if k in ("label", "runtime", "precision", "source", "sets", "test", "speed")}
    row["sets"] = {n: {k: v for k, v in s.items() if k != "images"} for n, s in row.get("sets", {}).items()}
    if "test" in row:
        row["test"] = {k: v for k, v in row["test"].items() if k != "images"}
    return {"command": data.get("command"), "scale": data.get("scale"), **row}


def make_card(
    name: str, onnx_path: Path, model: nn.Module, arch: str, args: dict[str, Any], opset: int,
    precision: str = "fp32", metrics: dict[str, Any] | None = None, training: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None, planes: str = "RGB",
) -> dict[str, Any]:
    """The card of export/README.md for `onnx_path` (already final bytes). planes "Y": the uint8 luma
    plane form (`luma_u8_io`)."""
    info = describe(model)
    y_form = {"planes": "Y", "dtype": "uint8", "value_range": (0.0, 255.0), "output_kind": "image"} if planes == "Y" else {}
    card = card_fields(name, onnx_path, pad_multiple=pad_multiple_of(model), precision=precision, opset=opset, **y_form,
                       architecture={"class": arch, "args": args}, params=info["params"],
                       macs_per_pixel=info["macs_per_pixel"], metrics=metrics or {}, training=training or {})
    card.update(extra or {})
    return card


def write_json_atomic(path: Path, obj: Any) -> None:
    """Writes JSON to `path.partial`, then renames: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------- the command


def export(cfg: ExportConfig, log=click.echo) -> dict[str, Any]:
    """Runs the whole export for `cfg`; returns the card written beside the ONNX file."""
    torch.set_num_threads(cfg.threads)
    reference, ckpt = load_checkpoint(cfg.checkpoint)
    model, _ = load_checkpoint(cfg.checkpoint)
    fold_identity, trained = fold_identity_of(cfg, ckpt), qat_folded(ckpt)
    if trained is not None and fold_identity != trained:
        log(f"note: {cfg.checkpoint}'s QAT rounded each body block {'with its identity folded' if trained else 'with its identity as an add'}; "
            f"this export {'folds' if fold_identity else 'keeps'} it, so its int8 rounds differently from what the QAT trained for")
    inference_model(model, fold_identity)
    luma = cfg.planes == "Y"
    if luma and not hasattr(model, "forward_luma"):
        raise ExportError(f"{ckpt['arch']} works on RGB: --planes Y needs a luma student (model = \"collapsible\" or \"mixgrid\")")
    if cfg.self_ensemble:
        if pad_multiple_of(model) != 1:
            raise ExportError(f"--self-ensemble is for full-resolution RGB teachers (8x the cost), not the real-time "
                              f"{ckpt['arch']}: drop it (--single-pass, or self_ensemble = false in the TOML)")
        reference, model = SelfEnsemble(reference.eval()), SelfEnsemble(model)
    mult = pad_multiple_of(model)
    eh, ew = cfg.export_size
    shapes = [(h, w) for h, w in cfg.parity_sizes]
    for h, w in [(eh, ew), *shapes]:
        if h % mult or w % mult:
            raise ExportError(f"size {h}x{w} is not a multiple of the model's pad multiple {mult}: pick multiples of {mult}")
    if any((h, w) == (eh, ew) for h, w in shapes) or len(set(shapes)) < 2:
        raise ExportError("parity needs two shapes that differ from each other and from the export shape")

    # Folding and fusing must not change the function: check it in torch before going to ONNX.
    inputs = parity_inputs(tuple(shapes))
    with torch.no_grad():
        fold_err = max(float((reference(torch.from_numpy(x)) - model(torch.from_numpy(x))).abs().max()) for x in inputs)
    if fold_err > cfg.parity_tol:
        raise ExportError(f"BN folding / re-param fusion changed the output by {fold_err:.2e} > {cfg.parity_tol}: a model bug")

    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{cfg.name}.onnx"
    card_path = out_dir / f"{cfg.name}.json"
    tmp = out_dir / f"{cfg.name}.onnx.partial"
    try:
        if luma:
            from kd.models.collapsible import LumaPlane

            export_onnx(LumaPlane(model), tmp, eh, ew, cfg.opset, cfg.exporter, channels=1)
            luma_u8_io(tmp)
            err = check_parity_luma(reference, tmp, inputs, cfg.threads)
            if err > 1:  # uint8 out: float noise can only move a value at a rounding tie, by one level
                raise ExportError(f"the Y-plane ONNX differs from torch by {err:.0f} levels at {shapes}: export refused")
        else:
            export_onnx(model, tmp, eh, ew, cfg.opset, cfg.exporter)
            err = check_parity(reference, tmp, inputs, cfg.threads)
            if err > cfg.parity_tol:
                raise ExportError(f"ONNX differs from torch by {err:.2e} > {cfg.parity_tol} at {shapes}: export refused")
        metrics = metrics_from_eval(cfg.metrics, cfg.checkpoint, cfg.metrics_label) if cfg.metrics else {}
        os.replace(tmp, onnx_path)
    finally:
        tmp.unlink(missing_ok=True)
    card = make_card(
        cfg.name, onnx_path, model, ckpt["arch"], dict(ckpt["args"]), cfg.opset, "fp32", metrics, training_info(ckpt),
        planes=cfg.planes,
        extra={"export": {
            "checkpoint": str(Path(cfg.checkpoint)), "exporter": cfg.exporter, "self_ensemble": cfg.self_ensemble,
            ("parity_max_abs_levels" if luma else "parity_max_abs"): err,
            "parity_shapes": [list(s) for s in shapes], "fold_max_abs": fold_err,
            "torch": version("torch"), "onnx": version("onnx"), "onnxruntime": version("onnxruntime"),
        }, **({"fold_identity": True} if fold_identity else {})},  # kept by the int8 card (the graph it rounds)
    )
    write_card(card_path, card)
    log(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1024:.0f} KiB) and {card_path}: "
        f"{'Y plane uint8, ' if luma else ''}{'identities folded, ' if fold_identity else ''}parity max abs {err:.2e}{' levels' if luma else ''} at {' and '.join(f'{h}x{w}' for h, w in shapes)} (HxW), "
        f"{card['params']} params, {card['macs_per_pixel']} MACs/px, pad multiple {card['pad_multiple']}")
    return card


@click.command("export")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--config", type=click.Path(dir_okay=False), help="TOML file ([export] table); flags override it.")
@click.option("--name", default=None, help="Model name: writes <out>/<name>.onnx and <name>.json. [default: sharpcam-rt]")
@click.option("--out", default=None, help="Output folder. [default: export]")
@click.option("--metrics", default=None, type=click.Path(dir_okay=False), help="A `kd evaluate` JSON whose row for this checkpoint goes into the card.")
@click.option("--metrics-label", default=None, help="The row of --metrics to use when its source is not this checkpoint.")
@click.option("--opset", default=None, type=int, help=f"ONNX opset. [default: {ONNX_OPSET}]")
@click.option("--exporter", type=click.Choice(["torchscript", "dynamo"]), default=None,
              help="torch.onnx exporter. [default: torchscript: native opset 17]")
@click.option("--threads", default=None, type=int, help="CPU threads for torch and onnxruntime. [default: 2]")
@click.option("--planes", type=click.Choice(["RGB", "Y"]), default=None,
              help="RGB: 1x3xHxW float32 in [0, 1]; Y: the I420 luma plane, uint8 in and out (luma students). [default: RGB]")
@click.option("--self-ensemble/--single-pass", default=None,
              help="Average the model over the input's 8 flips/transposes (teachers: ~+0.1 dB, 8x the cost). [default: single pass]")
@click.option("--fold-identity/--keep-identity", default=None,
              help="Collapsible students: each body block's input folded into its conv kernel, so int8 rounds a block once "
                   "(less flicker). [default: as the checkpoint's QAT ran (qat_fold_identity), else kept as an add]")
def export_command(checkpoint: str, config: str | None, name: str | None, out: str | None, metrics: str | None, metrics_label: str | None,
                   opset: int | None, exporter: str | None, threads: int | None, planes: str | None, self_ensemble: bool | None,
                   fold_identity: bool | None) -> None:
    """Export a training CHECKPOINT to ONNX (BN folded, dynamic H/W, parity-checked) + model card."""
    given = {"checkpoint": checkpoint, "name": name, "out": out, "metrics": metrics, "metrics_label": metrics_label,
             "opset": opset, "exporter": exporter, "threads": threads, "planes": planes, "self_ensemble": self_ensemble,
             "fold_identity": fold_identity}
    try:
        cfg = merge(ExportConfig, config, given, section="export")
        export(cfg)
    except (ConfigError, ExportError, CheckpointError, OSError) as e:
        raise click.ClickException(str(e)) from None


def _read_eval_json(p: Path) -> dict[str, Any]:
    try:
        data = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise ExportError(f"{p} is not valid JSON ({e}): pass the .json that `kd evaluate --out` wrote") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ExportError(f"{p} is not a `kd evaluate` result (no 'models' list): pass the .json that `kd evaluate --out` wrote")
    return data


def add_metrics(card_path: str | Path, eval_json: str | Path, label: str | None = None) -> dict[str, Any]:
    """Writes the `kd evaluate` row of this card's model into the card's `metrics` (atomically); the
    model file and its sha256 are untouched. The row is the one whose source is the card's ONNX file,
    else the one labelled `label` (default: the card's name)."""
    card, onnx_path = load_card(card_path)
    p = Path(eval_json)
    if not p.is_file():
        raise ExportError(f"evaluation JSON {p} not found: run `kd evaluate` with this model first")
    rows = _read_eval_json(p)["models"]
    want = str(onnx_path.resolve())
    by_source = [r for r in rows if r.get("source") and str(Path(r["source"]).resolve()) == want]
    source = by_source[0]["source"] if len(by_source) == 1 and label is None else None
    metrics = metrics_from_eval(p, source, None if source else (label or card["name"]))
    card_file = Path(card_path) if Path(card_path).suffix == ".json" else Path(card_path).with_suffix(".json")
    write_card(card_file, {**card, "metrics": metrics})
    return metrics


@click.command("card")
@click.argument("card", type=click.Path(dir_okay=False))
@click.option("--metrics", required=True, type=click.Path(dir_okay=False), help="A `kd evaluate` JSON that scored this model.")
@click.option("--metrics-label", default=None, help="Its row's label when the row's source is not this card's ONNX file.")
def card_command(card: str, metrics: str, metrics_label: str | None) -> None:
    """Put a model's evaluation row into its CARD (.json, or the .onnx beside it); the model is not touched."""
    try:
        m = add_metrics(card, metrics, metrics_label)
    except (ExportError, OSError) as e:
        raise click.ClickException(str(e)) from None
    sets = ", ".join(f"{n} {s['psnr']:.2f} dB" for n, s in m.get("sets", {}).items() if "psnr" in s)
    click.echo(f"{card}: metrics from {metrics} ({m.get('label')}: {sets})")
