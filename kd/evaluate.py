"""`kd evaluate`: score models with the published SR protocol, the spec's test split, and ONNX speed.

Published protocol (../shared/datasets/README.md), per image: HR -> modcrop(scale) -> MATLAB-like
bicubic down/up (kd.degrade) -> the model on the full degraded RGB image (edge-padded to the model's
multiple and cropped back, as the runtime does) -> clip to [0, 1] -> round to uint8 (published
evaluations score saved images) -> Y-PSNR / SSIM with `scale` px shaved; averaged per image.
A grayscale HR image (Set14's bridge) is degraded as gray, fed to the model as R = G = B, and its
output scored on its gray level (BT.601 weights without the 16..235 offset: exactly the gray value when
R = G = B) against the gray original, which is what the MATLAB scripts do.

The spec's protocol, on a held-out list of HR images: centre crop `test_crop` px -> x2 bicubic down/up
-> model -> uint8 -> RGB SSIM (channel mean, range [0, 1]) and MSE in [0, 1], no shave.

Speed: onnxruntime alone (no capture or conversion; the whole pipeline is `sharpcam bench`) on a
1 x 3 x H x W float32 frame, `threads` intra-op threads, ORT_ENABLE_ALL, warm-up runs, median of N,
the models taking turns run by run. Scores are deterministic: no randomness, fixed thread counts.
"""
from __future__ import annotations

import math
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from kd.config import DEFAULT_TEST_LIST, ConfigError, EvalConfig, merge
from kd.degrade import bicubic_down_up, modcrop
from kd.checkpoint import CheckpointError
from kd.export import ExportError, load_card, load_checkpoint, ort_session, pad_multiple_of, write_json_atomic
from kd.metrics import mse01, psnr, rgb_ssim, shave, ssim, y_channel_f64
from kd.models import describe
from vcam.card import Y_BLACK, Y_SPAN
from vcam.transforms import add_luma_change_u8

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


class EvalError(ValueError):
    """Missing or unusable evaluation input; the message names the fix."""


# ---------------------------------------------------------------- images


def load_hr_u8(path: Path) -> np.ndarray:
    """An HR image as H x W x 3 uint8 RGB, or H x W uint8 when the file is grayscale (kept gray so it
    is scored on its own values, as the published protocol does)."""
    try:
        with Image.open(path) as im:
            if im.mode in ("L", "I;16", "I", "F"):
                return np.asarray(im.convert("L"))
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as e:
        raise EvalError(f"cannot read image {path} ({e}): remove or replace it") from None


def as_rgb_u8(img_u8: np.ndarray) -> np.ndarray:
    """H x W gray -> H x W x 3 with R = G = B; RGB passes through."""
    return np.repeat(img_u8[..., None], 3, axis=2) if img_u8.ndim == 2 else img_u8


def gray_of_rgb_f64(rgb_u8: np.ndarray) -> np.ndarray:
    """Gray level of an RGB uint8 image as float64 0..255 (BT.601 weights 0.299/0.587/0.114, no offset):
    equals the value itself when R = G = B. Used to score a model's output on a gray original."""
    rgb = rgb_u8.astype(np.float64)
    return (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 219.0


def protocol_y_scores(out_rgb_u8: np.ndarray, hr_u8: np.ndarray, scale: int) -> tuple[float, float]:
    """Y-PSNR / SSIM of a model output (H x W x 3 uint8) against its HR original (H x W x 3, or H x W
    gray): Y channel (gray level for a gray original), `scale` px shaved."""
    if hr_u8.ndim == 2:
        yo, yr = gray_of_rgb_f64(out_rgb_u8), hr_u8.astype(np.float64)
    else:
        yo, yr = y_channel_f64(out_rgb_u8), y_channel_f64(hr_u8)
    yo, yr = shave(yo, scale), shave(yr, scale)
    return psnr(yo, yr), ssim(yo, yr)


def list_images(folder: str | Path, option: str = "--set") -> list[Path]:
    """The image files directly in `folder`, sorted; `option` is the flag named in the error."""
    p = Path(folder)
    if not p.is_dir():
        raise EvalError(f"evaluation folder {p} not found: pass {option} DIR (the sets live in ../shared/datasets/eval/)")
    files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
    if not files:
        raise EvalError(f"no images in {p}: pass a folder of PNG/JPEG/BMP HR images")
    return files


def read_list_file(path: str | Path) -> list[Path]:
    """Image paths, one per line (blank lines and # comments skipped); relative paths are taken
    relative to the list file's folder, then to the current directory."""
    p = Path(path)
    files = []
    for line in p.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = Path(line)
        if not f.is_absolute() and not f.exists() and (p.parent / f).exists():
            f = p.parent / f
        if not f.is_file():
            raise EvalError(f"{p} lists {line}, which does not exist: re-run `kd prepare` or fix the list")
        files.append(f)
    if not files:
        raise EvalError(f"{p} lists no images: re-run `kd prepare`")
    return files


# ---------------------------------------------------------------- restorers: one image in, one image out


def _pad_edge(x: np.ndarray, mult: int) -> np.ndarray:
    """1 x 3 x H x W -> edge-padded at bottom/right to multiples of `mult` (as the runtime pads)."""
    h, w = x.shape[2:]
    ph, pw = -h % mult, -w % mult
    return np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="edge") if ph or pw else x


def rgb_u8_to_nchw_f32(rgb_u8: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> 1 x 3 x H x W float32 in [0, 1]."""
    return np.ascontiguousarray(rgb_u8.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255.0)


def nchw_f32_to_rgb_u8(x: np.ndarray) -> np.ndarray:
    """1 x 3 x H x W float in [0, 1] (any values) -> H x W x 3 uint8, clipped and rounded."""
    return np.rint(np.clip(x[0].transpose(1, 2, 0), 0.0, 1.0) * 255.0).astype(np.uint8)


class BlurredInput:
    """The "model" that returns its input: the bicubic baseline row."""

    label = "blurred input (bicubic)"
    runtime = "-"
    source = None
    precision = "-"
    info: dict[str, Any] = {}
    onnx_path = None

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        return rgb_u8


class TorchRestorer:
    """A training checkpoint run in torch (eval mode, as trained: no fusing), float32 on the CPU."""

    runtime = "torch"
    precision = "fp32"
    onnx_path = None

    def __init__(self, checkpoint: str | Path) -> None:
        self.model, ckpt = load_checkpoint(checkpoint)
        self.mult = pad_multiple_of(self.model)
        p = Path(checkpoint)
        self.label = f"{ckpt['arch']} {p.parent.name}/{p.stem}"
        self.source = str(p.resolve())
        self.info = {"arch": ckpt["arch"], "args": ckpt["args"], "step": (ckpt.get("state") or ckpt).get("step"), **describe(self.model)}

    @torch.no_grad()
    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        h, w = rgb_u8.shape[:2]
        x = _pad_edge(rgb_u8_to_nchw_f32(rgb_u8), self.mult)
        y = self.model(torch.from_numpy(x)).numpy()
        return nchw_f32_to_rgb_u8(y[:, :, :h, :w])


def i420_y_even_u8(rgb_u8: np.ndarray) -> np.ndarray:
    """The Y plane the runtime holds for an RGB uint8 picture: OpenCV's I420 (BT.601 limited range) of the
    frame edge-padded to even sides, so (H + H % 2, W + W % 2) uint8."""
    h, w = rgb_u8.shape[:2]
    even = cv2.copyMakeBorder(np.ascontiguousarray(rgb_u8[:, :, ::-1]), 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(even, cv2.COLOR_BGR2YUV_I420)[: h + h % 2]


class OnnxRestorer:
    """An exported model run by onnxruntime as its card says (pad multiple, colour order, range, kind).

    A "Y" card (the uint8 luma plane) is run the way the runtime runs it (vcam/transforms.py): RGB ->
    I420 by OpenCV, the model on the edge-padded Y plane (`luma_plane`). Its change of Y is then added
    to R, G and B alike, as the RGB students add their luma residual, so that every model is scored on
    the luma it hands the device, and none on the 4:2:0 chroma that the device format gives them all."""

    runtime = "onnxruntime"

    def __init__(self, model: str | Path, threads: int) -> None:
        self.card, self.onnx_path = load_card(model)
        self.session = ort_session(self.onnx_path, threads)
        self.mult = int(self.card.get("pad_multiple", 1))
        self.in_name = self.card["input"]["name"]
        self.out_name = self.card["output"]["name"]
        self.precision = self.card.get("precision", "fp32")
        self.label = f"{self.card['name']}"
        self.source = str(self.onnx_path)
        self.info = {
            "arch": self.card.get("architecture", {}).get("class"),
            "args": self.card.get("architecture", {}).get("args"),
            "params": self.card.get("params"),
            "macs_per_pixel": self.card.get("macs_per_pixel"),
        }
        self.bgr = self.card.get("color_order", "RGB") == "BGR"
        self.peak = float(self.card.get("value_range", [0.0, 1.0])[1])
        self.residual = self.card.get("output_kind", "image") == "residual"
        self.luma = self.card.get("planes", "RGB") == "Y"
        self.luma_u8 = self.card["input"].get("dtype") == "uint8"

    def luma_plane(self, rgb_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the I420 Y plane of `rgb_u8`, the model's output plane), H x W uint8 each."""
        h, w = rgb_u8.shape[:2]
        y_in = i420_y_even_u8(rgb_u8)
        eh, ew = y_in.shape
        m = self.mult
        y = cv2.copyMakeBorder(y_in, 0, -eh % m, 0, -ew % m, cv2.BORDER_REPLICATE)[None, None]
        feed = y if self.luma_u8 else ((y.astype(np.float32) - Y_BLACK) / Y_SPAN)
        out = self.session.run([self.out_name], {self.in_name: feed})[0][0, 0, :h, :w]
        if not self.luma_u8:
            out = np.clip(np.rint(out * Y_SPAN + Y_BLACK), 0, 255).astype(np.uint8)
        return y_in[:h, :w], out

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        if self.luma:
            y_in, y_out = self.luma_plane(rgb_u8)
            return add_luma_change_u8(rgb_u8, y_in, y_out)
        h, w = rgb_u8.shape[:2]
        x = _pad_edge(rgb_u8_to_nchw_f32(rgb_u8), self.mult)
        if self.bgr:
            x = np.ascontiguousarray(x[:, ::-1])
        feed = x * np.float32(self.peak) if self.peak != 1.0 else x
        y = self.session.run([self.out_name], {self.in_name: feed})[0]
        if self.peak != 1.0:
            y = y / self.peak
        if self.residual:
            y = x + y
        if self.bgr:
            y = y[:, ::-1]
        return nchw_f32_to_rgb_u8(y[:, :, :h, :w])


def make_restorer(model: str, threads: int):
    """A .pt checkpoint -> torch; a .json card or .onnx model -> onnxruntime."""
    suffix = Path(model).suffix.lower()
    if suffix in (".pt", ".pth"):
        return TorchRestorer(model)
    if suffix in (".json", ".onnx"):
        from kd.switch import SwitchedRestorer

        card, _ = load_card(model)
        return SwitchedRestorer(model, threads) if "switch" in card else OnnxRestorer(model, threads)
    raise EvalError(f"model {model}: pass a training checkpoint (.pt), an ONNX model (.onnx) or its card (.json)")


# ---------------------------------------------------------------- scoring


def protocol_pair(hr_u8: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(modcropped HR as read: H x W x 3 or H x W gray, degraded input H x W x 3 uint8)."""
    hr = modcrop(hr_u8, scale)
    return hr, as_rgb_u8(bicubic_down_up(hr, scale))


def score_set(restorer, files: list[Path], scale: int, desc: str) -> dict[str, Any]:
    """Published-protocol scores of one model on one folder: per image and the per-image mean."""
    rows = []
    for f in tqdm(files, desc=desc, unit="img", leave=False, file=sys.stderr, dynamic_ncols=True):
        hr, lq = protocol_pair(load_hr_u8(f), scale)
        p, s = protocol_y_scores(restorer.restore(lq), hr, scale)
        rows.append({"file": f.name, "psnr": p, "ssim": s})
    return {
        "psnr": float(np.mean([r["psnr"] for r in rows])),
        "ssim": float(np.mean([r["ssim"] for r in rows])),
        "n": len(rows),
        "images": rows,
    }


def spec_pair(hr_u8: np.ndarray, crop: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The spec's sample: centre crop `crop` px of the RGB original (smaller side if the image is
    smaller, rounded down to the scale), then bicubic down/up. Returns (hr, lq), H x W x 3 uint8."""
    rgb = as_rgb_u8(hr_u8)
    h, w = rgb.shape[:2]
    ch, cw = min(crop, h) // scale * scale, min(crop, w) // scale * scale
    y, x = (h - ch) // 2, (w - cw) // 2
    hr = np.ascontiguousarray(rgb[y : y + ch, x : x + cw])
    return hr, bicubic_down_up(hr, scale)


def score_spec(restorer, files: list[Path], crop: int, scale: int, desc: str) -> dict[str, Any]:
    """The spec's test metrics: RGB SSIM and MSE in [0, 1] (plus RGB PSNR from the MSE), per image mean."""
    rows = []
    for f in tqdm(files, desc=desc, unit="img", leave=False, file=sys.stderr, dynamic_ncols=True):
        hr, lq = spec_pair(load_hr_u8(f), crop, scale)
        out = restorer.restore(lq)
        m = mse01(out, hr)
        rows.append({"file": str(f), "rgb_ssim": rgb_ssim(out, hr), "mse": m, "rgb_psnr": psnr(out, hr)})
    return {
        "rgb_ssim": float(np.mean([r["rgb_ssim"] for r in rows])),
        "mse": float(np.mean([r["mse"] for r in rows])),
        "rgb_psnr": float(np.mean([r["rgb_psnr"] for r in rows])),
        "n": len(rows),
        "crop": crop,
        "scale": scale,
        "images": rows,
    }


def onnx_speeds(models: list[tuple[str | Path, int]], width: int, height: int, threads: int, runs: int, warmup: int,
                budget_s: float = float("inf")) -> list[dict[str, float]]:
    """onnxruntime latency of one frame for each (onnx path, pad multiple), 1 x C x H x W of the model's
    own input type (3 float32 channels for RGB models, the uint8 Y plane for luma ones), H and W
    padded up to the multiple. The models take turns run by run, so that load from other processes
    drifting over time hits them alike; after `budget_s` seconds of timed runs (and at least 3 rounds)
    timing stops early. The frame is mid-gray: conv cost does not depend on pixel values.
    Returns per model: median ms, FPS from it, min ms (the least-disturbed run), runs, threads."""
    sessions = [ort_session(path, threads) for path, _ in models]
    feeds = []
    for sess, (_, mult) in zip(sessions, models):
        arg = sess.get_inputs()[0]
        channels = arg.shape[1] if isinstance(arg.shape[1], int) else 3
        shape = (1, channels, height + (-height % mult), width + (-width % mult))
        x = np.full(shape, 128, np.uint8) if arg.type == "tensor(uint8)" else np.full(shape, 0.5, np.float32)
        feeds.append({arg.name: x})
    for sess, feed in zip(sessions, feeds):
        for _ in range(warmup):
            sess.run(None, feed)
    times: list[list[float]] = [[] for _ in models]
    start = time.perf_counter()
    for i in range(runs):
        if i >= 3 and time.perf_counter() - start > budget_s:
            break
        for sess, feed, t in zip(sessions, feeds, times):
            t0 = time.perf_counter()
            sess.run(None, feed)
            t.append(time.perf_counter() - t0)
    out = []
    for t in times:
        ms = 1000.0 * float(np.median(t))
        out.append({"ms": ms, "fps": 1000.0 / ms, "min_ms": 1000.0 * min(t), "runs": len(t), "threads": threads})
    return out


# ---------------------------------------------------------------- the whole evaluation


def command_line() -> str:
    """How this process was started, as a copy-pasteable line."""
    prog = Path(sys.argv[0]).name
    if prog in ("__main__.py", "-m"):
        prog = "python -m kd"
    return " ".join([prog, shlex.join(sys.argv[1:])]).strip()


def evaluate(cfg: EvalConfig, test_list_given: bool = False, log=click.echo) -> dict[str, Any]:
    """Runs every model of `cfg` on every set; returns the JSON-able result (rows in `models`)."""
    torch.set_num_threads(cfg.threads)
    sets = {Path(s).name: list_images(s) for s in cfg.sets}
    test_files = None
    if cfg.test_list:
        if Path(cfg.test_list).is_file():
            test_files = read_list_file(cfg.test_list)
        elif test_list_given:
            raise EvalError(f"test list {cfg.test_list} not found: run `kd prepare` (writes {DEFAULT_TEST_LIST}) or pass --test-list FILE")
        else:
            log(f"no {cfg.test_list} yet (run `kd prepare`): skipping the spec's test-split metrics")
    restorers = ([BlurredInput()] if cfg.blurred else []) + [make_restorer(m, cfg.threads) for m in cfg.models]
    labels = [r.label for r in restorers]
    for r in restorers:  # two rows must never share a label (the card picks its row by label)
        if labels.count(r.label) > 1:
            r.label = f"{r.label} [{r.runtime} {r.precision}] {Path(r.source).parent.name if r.source else ''}".strip()

    rows = []
    for r in restorers:
        row: dict[str, Any] = {"label": r.label, "runtime": r.runtime, "precision": r.precision, "source": r.source, **r.info}
        row["sets"] = {name: score_set(r, files, cfg.scale, f"{r.label} | {name}") for name, files in sets.items()}
        if test_files is not None:
            row["test"] = score_spec(r, test_files, cfg.test_crop, cfg.test_scale, f"{r.label} | test split")
        summary = ", ".join(f"{n} {s['psnr']:.2f}/{s['ssim']:.4f}" for n, s in row["sets"].items())
        log(f"{r.label}: {summary}")
        rows.append(row)
    timed = [(r, row) for r, row in zip(restorers, rows) if cfg.fps and r.onnx_path is not None]
    for w, h in cfg.fps_sizes if timed else ():
        log(f"timing {len(timed)} ONNX model(s) at {w}x{h}, {cfg.threads} threads, {cfg.fps_runs} runs each")
        for (_, row), sp in zip(timed, onnx_speeds([(r.onnx_path, r.mult) for r, _ in timed], w, h, cfg.threads,
                                                   cfg.fps_runs, cfg.fps_warmup, cfg.fps_budget_s)):
            row.setdefault("speed", {})[f"{w}x{h}"] = sp
    return {
        "command": command_line(),
        "scale": cfg.scale,
        "protocol": "modcrop, PIL bicubic down/up (MATLAB-like), uint8 output, Y (BT.601) PSNR/SSIM, shave = scale",
        "config": asdict(cfg),
        "versions": _versions(),
        "models": rows,
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("torch", "onnxruntime", "numpy", "pillow", "opencv-python-headless")}


def _fmt(v: float | None, digits: int) -> str:
    if v is None:
        return "–"
    return "inf" if math.isinf(v) else f"{v:.{digits}f}"


def render_markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown table (published protocol per set, the spec's test metrics, speed)."""
    rows = result["models"]
    set_names = list(rows[0]["sets"]) if rows else []
    has_test = any("test" in r for r in rows)
    sizes = sorted({k for r in rows for k in r.get("speed", {})}, key=lambda s: int(s.split("x")[0]))
    head = ["model", "runtime", "params", "MACs/px"] + [f"{n} ×{result['scale']} Y-PSNR / SSIM" for n in set_names]
    if has_test:
        head += ["test RGB SSIM", "test MSE"]
    head += [f"{s} ms (FPS)" for s in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["label"], r["runtime"] + (f" {r['precision']}" if r["precision"] not in ("-", "fp32") else ""),
                 f"{r['params']:,}" if r.get("params") else "–", f"{r['macs_per_pixel']:,}" if r.get("macs_per_pixel") else "–"]
        cells += [f"{_fmt(r['sets'][n]['psnr'], 2)} / {_fmt(r['sets'][n]['ssim'], 4)}" for n in set_names]
        if has_test:
            t = r.get("test")
            cells += [_fmt(t["rgb_ssim"], 4) if t else "–", _fmt(t["mse"], 5) if t else "–"]
        for s in sizes:
            sp = r.get("speed", {}).get(s)
            cells.append(f"{sp['ms']:.1f} ({sp['fps']:.{1 if sp['fps'] >= 1 else 2}f})" if sp else "–")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [
        "",
        f"Produced by: `{result['command']}`",
        "",
        f"Protocol: {result['protocol']}; mean over images."
        + (f" Test split: centre crop {next(r['test'] for r in rows if 'test' in r)['crop']} px, ×2, RGB SSIM / MSE in [0, 1]." if has_test else "")
        + (" Speed: onnxruntime alone (model only), "
           f"{result['config']['threads']} threads, ORT_ENABLE_ALL, median of up to {result['config']['fps_runs']} runs "
           "(models interleaved; runs and min in the JSON)." if sizes else ""),
    ]
    return "\n".join(lines + notes) + "\n"


def plot_tradeoff(result: dict[str, Any], path: Path) -> bool:
    """Quality vs speed PNG: Y-PSNR on the last set against model-only FPS at the first timed size, one
    point per ONNX model, the blurred input as a line. Returns False (and writes nothing) without timings."""
    rows = [r for r in result["models"] if r.get("speed")]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window
    import matplotlib.pyplot as plt

    size = next(iter(rows[0]["speed"]))
    set_name = list(rows[0]["sets"])[-1]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        x, y = r["speed"][size]["fps"], r["sets"][set_name]["psnr"]
        ax.plot(x, y, "o")
        ax.annotate(r["label"], (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    base = [r for r in result["models"] if r["runtime"] == "-"]
    if base:
        ax.axhline(base[0]["sets"][set_name]["psnr"], color="gray", ls="--", label="blurred input")
        ax.legend(loc="lower left")
    fps = [r["speed"][size]["fps"] for r in rows]
    log_x = max(fps) / min(fps) > 10  # teacher and students together span orders of magnitude
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(f"FPS at {size}, onnxruntime alone, {result['config']['threads']} threads" + (" (log)" if log_x else ""))
    ax.set_ylabel(f"{set_name} ×{result['scale']} Y-PSNR (dB)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, path)
    return True


def write_results(result: dict[str, Any], out: str | Path) -> list[Path]:
    """Writes <out>.md, <out>.json and, when models were timed, <out>.png (each through .partial + rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    md, js, png = (out.with_name(out.name + ext) for ext in (".md", ".json", ".png"))
    tmp = md.with_name(md.name + ".partial")
    tmp.write_text(render_markdown(result))
    os.replace(tmp, md)
    write_json_atomic(js, result)
    return [md, js] + ([png] if plot_tradeoff(result, png) else [])


def _webcam_command(models, config, sets, threads, out, clips, no_clips, clip_frames, unsharp) -> None:
    from kd.config import WebcamBenchConfig
    from kd.webcam import WebcamBenchError, render_markdown as render_webcam, run_bench, write_bench

    given = {"models": tuple(models) or None, "sets": tuple(sets) or None, "threads": threads, "out": out,
             "clips": () if no_clips else (tuple(clips) or None), "clip_frames": clip_frames, "unsharp": unsharp}
    try:
        cfg = merge(WebcamBenchConfig, config, given, section="webcam")
        result = run_bench(cfg, log=click.echo)
        written = write_bench(result, cfg.out)
    except (ConfigError, EvalError, ExportError, CheckpointError, WebcamBenchError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo("")
    click.echo(render_webcam(result), nl=False)
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: write sizes as WIDTHxHEIGHT, e.g. 1280x720") from None
    return w, h


@click.command("evaluate")
@click.argument("models", nargs=-1)
@click.option("--config", type=click.Path(dir_okay=False), help="TOML file ([evaluate] table); flags override it.")
@click.option("--set", "sets", multiple=True, help="Folder of HR images (repeatable). [default: ../shared/datasets/eval/{Set5,Set14,B100}]")
@click.option("--scale", type=click.Choice(["2", "3", "4"]), default=None, help="Degradation scale of the published protocol. [default: 2]")
@click.option("--test-list", default=None, help=f"List file of held-out HR images for the spec's metrics. [default: {DEFAULT_TEST_LIST} if present]")
@click.option("--no-test", is_flag=True, help="Skip the spec's test-split metrics.")
@click.option("--no-blurred", is_flag=True, help="Leave out the blurred-input (bicubic) row.")
@click.option("--no-fps", is_flag=True, help="Skip the ONNX speed measurement.")
@click.option("--fps-size", "fps_sizes", multiple=True, help="WIDTHxHEIGHT to time ONNX models at (repeatable). [default: 1280x720, 1920x1080]")
@click.option("--fps-runs", type=int, default=None, help="Timed runs per size (median reported). [default: 20]")
@click.option("--fps-budget", type=float, default=None, help="Seconds of timing per size before stopping early (>= 3 runs). [default: 120]")
@click.option("--threads", type=int, default=None, help="onnxruntime / torch threads. [default: 2]")
@click.option("--out", default=None, help="Writes OUT.md and OUT.json. [default: runs/eval/results, with --webcam runs/eval/webcam]")
@click.option("--webcam", is_flag=True, help="The webcam benchmark instead: gains over the degraded input and a frozen unsharp mask "
              "on four webcam degradations, flicker and sharpness on --clip videos, ringing.")
@click.option("--clip", "clips", multiple=True, help="--webcam: a video to measure flicker on (repeatable). [default: ../shared/video/*.mp4]")
@click.option("--no-clips", is_flag=True, help="--webcam: skip the clips.")
@click.option("--clip-frames", type=int, default=None, help="--webcam: frames read per clip. [default: 60]")
@click.option("--unsharp", default=None, help="--webcam: the frozen unsharp baseline. [default: kd/recipes/unsharp.toml]")
def evaluate_command(models: tuple[str, ...], config: str | None, sets: tuple[str, ...], scale: str | None, test_list: str | None, no_test: bool,
                     no_blurred: bool, no_fps: bool, fps_sizes: tuple[str, ...], fps_runs: int | None, fps_budget: float | None, threads: int | None,
                     out: str | None, webcam: bool, clips: tuple[str, ...], no_clips: bool, clip_frames: int | None, unsharp: str | None) -> None:
    """Score MODELS (.pt checkpoints, .onnx models or their .json cards) and the blurred input.

    Published SR protocol (Y-PSNR/SSIM, shave = scale) on each --set, the spec's RGB SSIM/MSE on the
    held-out test list, and model-only onnxruntime FPS. Prints a Markdown table; writes OUT.md + OUT.json.
    With --webcam: the webcam benchmark (kd/webcam.py) on the --set folders and --clip videos.
    """
    if webcam:
        _webcam_command(models, config, sets, threads, out, clips, no_clips, clip_frames, unsharp)
        return
    given: dict[str, Any] = {
        "models": tuple(models) or None, "sets": tuple(sets) or None, "scale": int(scale) if scale else None,
        "blurred": False if no_blurred else None, "fps": False if no_fps else None,
        "fps_sizes": tuple(_parse_size(s) for s in fps_sizes) or None, "fps_runs": fps_runs, "fps_budget_s": fps_budget, "threads": threads, "out": out,
    }
    if no_test:
        given["test_list"] = ""
    elif test_list:
        given["test_list"] = test_list
    try:
        cfg = merge(EvalConfig, config, given, section="evaluate")
        result = evaluate(cfg, test_list_given=bool(test_list))
        written = write_results(result, cfg.out)
    except (ConfigError, EvalError, ExportError, CheckpointError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo("")
    click.echo(render_markdown(result), nl=False)
    click.echo(f"wrote {', '.join(str(p) for p in written)}")
