"""`kd quantize`: an exported fp32 model -> static int8 (QDQ, per-channel weights) + its card + a check.

Steps: `quant_pre_process` (symbolic shape inference + graph clean-up; dynamic H/W survive it) ->
calibration on real training images (seeded random crops, degraded by kd.degrade exactly like the
training inputs) through a CalibrationDataReader -> `quantize_static` in QDQ format (uint8
activations, int8 per-channel weights) -> `<name>-int8.onnx` (written as .partial, renamed) -> the
same card contract with precision "int8" -> quality and speed against the fp32 model: Y-PSNR lost
(published protocol) on a few images, onnxruntime latency at 720p with 2 threads.

Only the convolutions (with their ReLUs, which fuse into the quantized output range) run in int8 by
default, and the ops that read the full-resolution input stay float (RealtimeStudent's fixed
luma + pixel-unshuffle strided conv: 48 MACs/px; the teachers' first conv: a small share). So the
input is never requantized (no full-resolution Quantize/Dequantize pair), the luma weights are exact,
and the output is the float input plus an int8-computed residual. Measured on a briefly trained
RealtimeStudent (Set5 x2, see the card's `quantization.check`): quantizing the luma conv as well
loses ~0.08 dB more and is slower; leaving ReLU out of the int8 set costs ~0.08 dB (the conv output
range must then cover the negative half too).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
import numpy as np
import onnx

from kd.config import ConfigError, QuantizeConfig, merge
from kd.checkpoint import CheckpointError
from kd.degrade import WebcamMix, degrade, modcrop
from kd.evaluate import EvalError, OnnxRestorer, as_rgb_u8, list_images, load_hr_u8, onnx_speeds, read_list_file, score_set
from kd.export import ExportError, load_card, luma_u8_io, rgb_to_y_u8, strip_luma_u8_io
from vcam.card import Y_BLACK, Y_SPAN, sha256_of, write_card


class QuantizeError(ValueError):
    """A model or calibration input that cannot be quantized; the message names the fix."""


def calibration_files(sources: tuple[str, ...]) -> list[Path]:
    """Image files from folders (searched recursively) and/or list files (one path per line)."""
    files: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp") and f.is_file())
        elif p.is_file():
            files += read_list_file(p)
        else:
            raise QuantizeError(f"calibration source {p} not found: run `kd prepare` (writes runs/split/train.txt) "
                                "or pass --calib with training image folders or a train.txt list")
    if not files:
        raise QuantizeError(f"no calibration images in {', '.join(sources)}: pass folders of training images")
    return files


def calibration_batches(files: list[Path], n_images: int, crop: int, scale: int, mult: int, seed: int,
                        webcam: bool = False) -> list[np.ndarray]:
    """`n_images` degraded crops, each 1 x 3 x C x C float32 in [0, 1] (C = `crop` rounded down to a
    multiple of lcm(scale, mult)): seeded choice of images and crop positions, bicubic x`scale` down/up,
    or with `webcam` the webcam mix the default trains on (so noise and blocks set the ranges too)."""
    rng = np.random.default_rng(seed)
    step = int(np.lcm(scale, mult))
    c = crop // step * step
    if c < step:
        raise QuantizeError(f"calib_crop {crop} is smaller than {step}: raise --calib-crop")
    picks = rng.choice(len(files), size=min(n_images, len(files)), replace=False)
    out = []
    for i in sorted(int(i) for i in picks):
        rgb = as_rgb_u8(load_hr_u8(files[i]))
        h, w = rgb.shape[:2]
        if min(h, w) < c:
            continue
        y, x = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
        hr = np.ascontiguousarray(modcrop(rgb[y : y + c, x : x + c], step))
        lq = WebcamMix()(hr, rng) if webcam else degrade(hr, rng, scales=(scale,))
        out.append(np.ascontiguousarray(lq.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255.0))
    if not out:
        raise QuantizeError(f"no calibration image is at least {c} px on each side: lower --calib-crop")
    return out


def _reader(batches: list[np.ndarray], input_name: str):
    from onnxruntime.quantization import CalibrationDataReader

    class _Batches(CalibrationDataReader):
        """Feeds the calibration crops one by one."""

        def __init__(self) -> None:
            self._it = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {input_name: x}

        def rewind(self) -> None:
            self._it = iter(batches)

    return _Batches()


def quantize_onnx(fp32_path: Path, int8_path: Path, batches: list[np.ndarray], input_name: str,
                  method: str = "minmax", ops: tuple[str, ...] = ("Conv", "Relu"), float_input_ops: bool = True,
                  float_nodes: tuple[str, ...] = (), reduce_range: bool = True, label: str | Path | None = None,
                  luma_grid: bool = False) -> dict[str, list[str]]:
    """Static int8 QDQ quantization of `fp32_path` into `int8_path` (only `ops` quantized; weights int8
    per output channel, activations uint8 per tensor). `float_input_ops`: the nodes reading the graph
    input stay float; `float_nodes`: these named nodes too; `reduce_range`: 7-bit weights (no int16
    overflow on x86 CPUs without VNNI). `label`: the model as errors name it (default `fp32_path`).
    `luma_grid` (a Y-plane body whose input ops are quantized): the input, the unshuffle's copy of it and
    the output are quantized on the uint8 Y plane's own grid ((Y - 16) / 219) instead of a calibrated
    range, so reading and writing the plane rounds nothing and its uint8 ends cancel out.
    Returns the op types and the named nodes left in float."""
    label = label or fp32_path
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile, "entropy": CalibrationMethod.Entropy}
    with tempfile.TemporaryDirectory(prefix="sharpcam-quant-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        try:
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        except Exception as e:  # shape inference can refuse exotic graphs: say so, with the fix
            raise QuantizeError(f"onnxruntime quantization pre-processing failed on {label} ({e}): re-export with `kd export`") from None
        nodes = onnx.load(str(pre)).graph.node
        left_float = sorted({n.op_type for n in nodes} - set(ops))
        exclude = [n.name for n in nodes if input_name in n.input and n.op_type in ops] if float_input_ops else []
        unknown = sorted(set(float_nodes) - {n.name for n in nodes})
        if unknown:
            raise QuantizeError(f"--float-nodes names {', '.join(unknown)}, not in {label}: pass node names "
                                f"from the model ({', '.join(n.name for n in nodes if n.op_type in ops)})")
        exclude += [n for n in float_nodes if n not in exclude]
        overrides = {}
        if luma_grid and not float_input_ops:
            grid = {"scale": np.array(1.0 / Y_SPAN, np.float32), "zero_point": np.array(Y_BLACK, np.uint8)}
            model = onnx.load(str(pre))
            copies = [n.output[0] for n in nodes if input_name in n.input and _is_unshuffle(n, model.graph)]
            overrides = {t: [dict(grid)] for t in [input_name, *copies, model.graph.output[0].name]}
            # The residual on the same steps (zero at 128): the last add is then exact integer maths
            # (Y + r - 128), and rounding r to whole grey levels is the one rounding the float model's
            # uint8 output had anyway. A calibrated range instead rounds twice, at ~1-level steps
            # that flicker in still areas (measured: flicker 1.35 against 1.19 on the 720p clip).
            residual = {"scale": grid["scale"], "zero_point": np.array(128, np.uint8)}
            overrides.update({t: [dict(residual)] for t in _residual_tensors(model.graph, input_name)})
        try:
            quantize_static(
                str(pre), str(int8_path), _reader(batches, input_name),
                quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=reduce_range,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                calibrate_method=methods[method], op_types_to_quantize=list(ops), nodes_to_exclude=exclude,
                extra_options={"CalibTensorRangeSymmetric": False, "ActivationSymmetric": False,
                               "TensorQuantOverrides": overrides},
            )
        except Exception as e:  # onnxruntime raises many kinds; one line with the model named is what helps
            raise QuantizeError(f"onnxruntime quantization failed on {label} ({type(e).__name__}: {e}): "
                                "try --calib-method minmax or re-export with `kd export`") from None
    _drop_unused_opsets(int8_path)
    onnx.checker.check_model(str(int8_path))
    return {"op_types": left_float, "nodes": exclude}


def _residual_tensors(graph, input_name: str) -> list[str]:
    """The tensors of the residual a luma model adds to its input to make its output: the last Add's
    other operand, back through the pixel shuffle (and any reshapes) to the conv that makes it."""
    producer = {o: n for n in graph.node for o in n.output}
    last = producer.get(graph.output[0].name)
    if last is None or last.op_type != "Add" or input_name not in last.input:
        return []
    tensor = next(t for t in last.input if t != input_name)
    found = [tensor]
    node = producer.get(tensor)
    while node is not None and node.op_type in ("DepthToSpace", "Reshape", "Transpose"):
        tensor = node.input[0]
        found.append(tensor)
        node = producer.get(tensor)
    return found


def _is_unshuffle(node, graph) -> bool:
    """A bias-free Conv whose weight copies one input pixel to each output channel (pixel-unshuffle as
    a strided conv): its output holds exactly the input's values, so it can share the input's grid."""
    if node.op_type != "Conv" or len(node.input) > 2:
        return False
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)
    w = consts.get(node.input[1])
    return w is not None and set(np.unique(w).tolist()) <= {0.0, 1.0} and (w.reshape(w.shape[0], -1).sum(1) == 1).all()


def _drop_unused_opsets(path: Path) -> None:
    """quantize_static declares every operator domain it knows (ai.onnx.ml 5, com.microsoft, ...); an
    older onnxruntime refuses a model that names a domain version it lacks, even unused. Keep only the
    domains the nodes use."""
    model = onnx.load(str(path))
    used = {n.domain for n in model.graph.node} | {""}
    kept = [o for o in model.opset_import if o.domain in used]
    if len(kept) != len(model.opset_import):
        del model.opset_import[:]
        model.opset_import.extend(kept)
        onnx.save(model, str(path))


def quantize(cfg: QuantizeConfig, log=click.echo) -> dict[str, Any]:
    """Runs the whole quantization for `cfg`; returns the int8 card."""
    card, fp32_path = load_card(cfg.model)
    if card.get("precision", "fp32") != "fp32":
        raise QuantizeError(f"{cfg.model} is already {card.get('precision')}: pass the fp32 card")
    luma = card.get("planes", "RGB") == "Y"
    name = cfg.name or f"{card['name']}-int8"
    out_dir = Path(cfg.out) if cfg.out else fp32_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    int8_path = out_dir / f"{name}.onnx"
    card_path = out_dir / f"{name}.json"
    if int8_path.resolve() == fp32_path.resolve():
        raise QuantizeError(f"the int8 model would overwrite {fp32_path}: pass another --name")
    mult = int(card.get("pad_multiple", 1))
    in_name = card["input"]["name"]

    for folder in cfg.check:  # fail before any work, not after the model is written
        list_images(folder, "--check")
    files = calibration_files(cfg.calib)
    batches = calibration_batches(files, cfg.calib_images, cfg.calib_crop, cfg.calib_scale, mult, cfg.seed, cfg.calib_webcam)
    log(f"calibrating on {len(batches)} crops of {cfg.calib_crop} px from {len(files)} images ({cfg.calib_method})")
    tmp = out_dir / f"{name}.onnx.partial"
    float_body = out_dir / f"{name}.float-luma.onnx.partial"
    try:
        if luma:
            # The body is quantized as the float luma model it wraps, calibrated on the float Y the
            # runtime's uint8 plane becomes; then the uint8 ends go back on, so the int8 model keeps
            # the card's I420 Y contract (uint8 in, int8 body, uint8 out).
            strip_luma_u8_io(fp32_path, float_body)
            y_batches = [(rgb_to_y_u8(b).astype(np.float32) - Y_BLACK) / Y_SPAN for b in batches]
            kept_float = quantize_onnx(float_body, tmp, y_batches, in_name, cfg.calib_method, cfg.quantize_ops,
                                       cfg.float_input_ops, cfg.float_nodes, cfg.reduce_range, label=fp32_path, luma_grid=True)
            luma_u8_io(tmp)
        else:
            kept_float = quantize_onnx(fp32_path, tmp, batches, in_name, cfg.calib_method, cfg.quantize_ops, cfg.float_input_ops,
                                       cfg.float_nodes, cfg.reduce_range)
        os.replace(tmp, int8_path)
    finally:
        tmp.unlink(missing_ok=True)
        float_body.unlink(missing_ok=True)

    int8_card = {k: v for k, v in card.items() if k not in ("metrics", "export")}
    int8_card.update({
        "name": name, "file": int8_path.name, "sha256": sha256_of(int8_path), "precision": "int8",
        "quantization": {
            "from": fp32_path.name, "from_sha256": card["sha256"], "format": "QDQ",
            "weights": "int8 per-channel" + (" (7-bit range: no int16 overflow without VNNI)" if cfg.reduce_range else ""),
            "activations": "uint8 per-tensor", "calibration": {"method": cfg.calib_method, "crops": len(batches),
            "crop_px": cfg.calib_crop, "scale": cfg.calib_scale, "webcam_mix": cfg.calib_webcam, "seed": cfg.seed, "sources": list(cfg.calib)},
            "quantized_ops": list(cfg.quantize_ops), "float_ops": kept_float["op_types"], "float_nodes": kept_float["nodes"],
        },
        "metrics": {},
    })
    write_card(card_path, int8_card)  # valid now; the check below only adds figures

    fp32_card = Path(cfg.model).with_suffix(".json") if Path(cfg.model).suffix == ".onnx" else Path(cfg.model)
    check = compare(card_path, fp32_card, cfg)
    int8_card["quantization"]["check"] = check
    write_card(card_path, int8_card)
    log(f"wrote {int8_path} ({int8_path.stat().st_size / 1024:.0f} KiB) and {card_path}")
    for set_name, c in check["sets"].items():
        log(f"  {set_name} x{check['scale']}: fp32 {c['fp32_psnr']:.2f} dB, int8 {c['int8_psnr']:.2f} dB "
            f"(lost {c['db_lost']:.3f} dB), SSIM {c['fp32_ssim']:.4f} -> {c['int8_ssim']:.4f}")
    s = check["speed"]
    log(f"  {s['size']}, {s['threads']} threads, median (min) of {s['runs']}: fp32 {s['fp32_ms']:.1f} ({s['fp32_min_ms']:.1f}) ms, "
        f"int8 {s['int8_ms']:.1f} ({s['int8_min_ms']:.1f}) ms: {s['speedup']:.2f}x ({s['speedup_min']:.2f}x)")
    return int8_card


def compare(int8_card: Path, fp32_card: Path, cfg: QuantizeConfig) -> dict[str, Any]:
    """dB lost (published protocol, per set) and latency ratio of the int8 model against the fp32 one."""
    fp32 = OnnxRestorer(fp32_card, cfg.threads)
    int8 = OnnxRestorer(int8_card, cfg.threads)
    sets = {}
    for folder in cfg.check:
        files = list_images(folder)
        a = score_set(fp32, files, cfg.check_scale, f"fp32 | {Path(folder).name}")
        b = score_set(int8, files, cfg.check_scale, f"int8 | {Path(folder).name}")
        sets[Path(folder).name] = {
            "fp32_psnr": a["psnr"], "int8_psnr": b["psnr"], "db_lost": a["psnr"] - b["psnr"],
            "fp32_ssim": a["ssim"], "int8_ssim": b["ssim"], "n": a["n"],
        }
    w, h = cfg.fps_size
    sa, sb = onnx_speeds([(fp32.onnx_path, fp32.mult), (int8.onnx_path, int8.mult)], w, h, cfg.threads, cfg.fps_runs, 2,
                         cfg.fps_budget_s)
    return {
        "scale": cfg.check_scale, "sets": sets,
        "speed": {"size": f"{w}x{h}", "threads": cfg.threads, "fp32_ms": sa["ms"], "int8_ms": sb["ms"],
                  "speedup": sa["ms"] / sb["ms"], "fp32_min_ms": sa["min_ms"], "int8_min_ms": sb["min_ms"],
                  "speedup_min": sa["min_ms"] / sb["min_ms"], "runs": sa["runs"]},
    }


@click.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False), required=False)
@click.option("--config", type=click.Path(dir_okay=False), help="TOML file ([quantize] table); flags override it.")
@click.option("--calib", multiple=True, help="Training image folder or list file (repeatable). [default: runs/split/train.txt]")
@click.option("--calib-images", type=int, default=None, help="Calibration crops (one per image). [default: 32]")
@click.option("--calib-crop", type=int, default=None, help="Crop size in px. [default: 128]")
@click.option("--calib-method", type=click.Choice(["minmax", "percentile", "entropy"]), default=None, help="[default: minmax]")
@click.option("--check", "check", multiple=True, help="HR folder for the dB-lost check (repeatable). [default: ../shared/datasets/eval/Set5]")
@click.option("--name", default=None, help="Output name. [default: <fp32 name>-int8]")
@click.option("--out", default=None, help="Output folder. [default: beside the fp32 model]")
@click.option("--quantize-input-ops", is_flag=True, help="Also quantize the ops that read the full-resolution input.")
@click.option("--full-range/--reduce-range", "full_range", default=None,
              help="8-bit weights, or 7-bit ones that cannot overflow on x86 CPUs without VNNI. [default: --reduce-range]")
@click.option("--float-nodes", default=None, help="Comma-separated node names kept in float, e.g. /head/Conv,/Relu.")
@click.option("--ops", default=None, help="Comma-separated op types to quantize. [default: Conv,Relu]")
@click.option("--seed", type=int, default=None, help="Seed for the calibration crops. [default: 0]")
@click.option("--fps-runs", type=int, default=None, help="Timed runs for the speed comparison. [default: 20]")
@click.option("--threads", type=int, default=None, help="onnxruntime threads. [default: 2]")
def quantize_command(model: str | None, config: str | None, calib: tuple[str, ...], calib_images: int | None, calib_crop: int | None, calib_method: str | None,
                     check: tuple[str, ...], name: str | None, out: str | None, quantize_input_ops: bool, full_range: bool | None, float_nodes: str | None, ops: str | None, seed: int | None,
                     fps_runs: int | None, threads: int | None) -> None:
    """Static int8 (QDQ, per-channel) quantization of an exported MODEL (.json card or .onnx; or the
    --config file's `model`), with a check."""
    given = {"model": model, "calib": tuple(calib) or None, "calib_images": calib_images, "calib_crop": calib_crop,
             "calib_method": calib_method, "check": tuple(check) or None, "name": name, "out": out,
             "quantize_ops": tuple(o.strip() for o in ops.split(",") if o.strip()) if ops else None, "float_input_ops": False if quantize_input_ops else None,
             "reduce_range": None if full_range is None else not full_range,
             "float_nodes": tuple(n.strip() for n in float_nodes.split(",") if n.strip()) if float_nodes else None, "seed": seed, "fps_runs": fps_runs, "threads": threads}
    try:
        cfg = merge(QuantizeConfig, config, given, section="quantize")
        quantize(cfg)
    except (ConfigError, QuantizeError, ExportError, EvalError, CheckpointError, OSError) as e:
        raise click.ClickException(str(e)) from None
