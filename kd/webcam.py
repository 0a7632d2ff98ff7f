"""`sharpcam-kd evaluate --webcam`: does a model beat a tuned unsharp mask on what webcams really send?

Images (any folders): every image, modcropped to 6, goes through each of the four fixed degradations of
`kd.degrade.WEBCAM_BENCHMARK` (x2; x2 + JPEG q40; Gaussian blur 1.2 + noise 4/255 + JPEG q60; x3), the
noise seeded per image and degradation (by name, so adding images changes no other image's input).
Each method restores it; the score is the Y-PSNR / SSIM *gain* over the degraded input (BT.601 Y,
3 px shaved), averaged per image. The methods: the degraded input itself (gain 0), the unsharp mask
with the sigma / amount frozen in `kd/recipes/unsharp.toml` (`sharpcam-kd unsharp-fit` chose them once,
on the training split under x2), and each model.

Clip frames count as originals too (`clip_images` evenly spaced frames of each clip, degraded the same
way): real talking heads beside the photo sets.

Clips (any videos, used as they come, as a camera would deliver them): still-area flicker = mean
|Y_out(t) - Y_out(t-1)| / mean |Y_in(t) - Y_in(t-1)| over the pixels whose input changes by less than
`still_threshold` grey levels (5x5 box-filtered), 1.0 = adds no flicker; sharpness gain = variance of the
Laplacian of Y_out / that of Y_in.

Ringing: a synthetic card of thin dark rings and lines (glasses rims) on flat backgrounds, x2 bicubic;
mean |Y_out - Y_hr| in grey levels over the flat band 3..10 px from every line, where any echo shows.

Deterministic: fixed seeds, fixed thread counts.
"""
from __future__ import annotations

import hashlib
import math
import sys
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from kd.config import UnsharpFitConfig, WebcamBenchConfig
from kd.degrade import WEBCAM_BENCHMARK, bicubic_down_up, modcrop
from kd.metrics import psnr, shave, ssim, y_channel_f64

SHAVE = 3  # the largest scale among the degradations


class WebcamBenchError(ValueError):
    """Missing or unusable benchmark input; the message names the fix."""


# ---------------------------------------------------------------- the classical baseline


class UnsharpMask:
    """out = x + amount * (x - GaussianBlur(x, sigma)) on RGB uint8, rounded and clipped: the runtime's
    `--unsharp` formula (vcam/transforms.py), with its sigma free."""

    runtime = "opencv"
    precision = "-"
    onnx_path = None
    info: dict[str, Any] = {}

    def __init__(self, sigma: float, amount: float) -> None:
        self.sigma, self.amount = float(sigma), float(amount)
        self.label = f"unsharp mask (σ {self.sigma:g}, amount {self.amount:g})"
        self.source = None

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        blur = cv2.GaussianBlur(rgb_u8, (0, 0), self.sigma, borderType=cv2.BORDER_REFLECT_101)
        return cv2.addWeighted(rgb_u8, 1.0 + self.amount, blur, -self.amount, 0.0)


class DegradedInput:
    """The method that changes nothing: every gain is measured against it."""

    label = "degraded input"
    runtime = "-"
    precision = "-"
    source = None
    onnx_path = None
    info: dict[str, Any] = {}

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        return rgb_u8


def load_unsharp(path: str | Path) -> UnsharpMask:
    """The frozen unsharp baseline recorded by `sharpcam-kd unsharp-fit`."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())["unsharp"]
        return UnsharpMask(float(data["sigma"]), float(data["amount"]))
    except FileNotFoundError:
        raise WebcamBenchError(f"unsharp baseline {p} not found: run `sharpcam-kd unsharp-fit` once (writes it)") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
        raise WebcamBenchError(f"unsharp baseline {p} is unreadable ({e}): re-run `sharpcam-kd unsharp-fit`") from None


def fit_unsharp(files: list[Path], sigmas: tuple[float, ...], amounts: tuple[float, ...], crop: int, progress: bool = True
                ) -> tuple[float, float, list[dict[str, float]]]:
    """Grid search of (sigma, amount) for the best mean Y-PSNR gain under x2 bicubic on `files`
    (centre crops of `crop` px). Returns the best sigma, amount and every grid point's gain."""
    from kd.evaluate import as_rgb_u8, load_hr_u8

    pairs = []
    for f in files:
        hr = as_rgb_u8(load_hr_u8(f))
        h, w = hr.shape[:2]
        c = min(crop, h, w) // 2 * 2
        y, x = (h - c) // 2, (w - c) // 2
        hr = np.ascontiguousarray(hr[y : y + c, x : x + c])
        lq = bicubic_down_up(hr, 2)
        y_hr, y_lq = shave(y_channel_f64(hr), 2), shave(y_channel_f64(lq), 2)
        pairs.append((lq, y_hr, psnr(y_lq, y_hr)))
    grid = []
    points = [(s, a) for s in sigmas for a in amounts]
    for s, a in tqdm(points, desc="unsharp grid", unit="point", disable=not progress, file=sys.stderr, dynamic_ncols=True):
        um = UnsharpMask(s, a)
        gain = float(np.mean([psnr(shave(y_channel_f64(um.restore(lq)), 2), y_hr) - p0 for lq, y_hr, p0 in pairs]))
        grid.append({"sigma": s, "amount": a, "psnr_gain": gain})
    best = max(grid, key=lambda g: g["psnr_gain"])
    return best["sigma"], best["amount"], grid


# ---------------------------------------------------------------- images


def image_seed(name: str, degradation: str, seed: int) -> np.random.Generator:
    """The per-image, per-degradation noise stream: depends on the file name, not on its position."""
    digest = hashlib.sha256(f"{seed}:{degradation}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def degraded_inputs(hr_rgb_u8: np.ndarray, name: str, seed: int) -> dict[str, np.ndarray]:
    """The four benchmark inputs of one HR image (H, W multiples of 6), by degradation name."""
    return {d: fn(hr_rgb_u8, image_seed(name, d, seed)) for d, fn in WEBCAM_BENCHMARK.items()}


def y_scores(img_u8: np.ndarray, y_hr: np.ndarray) -> tuple[float, float]:
    y = shave(y_channel_f64(img_u8), SHAVE)
    return psnr(y, y_hr), ssim(y, y_hr)


def score_images(methods: list, files: list[tuple[str, Path | np.ndarray]], seed: int, progress: bool = True) -> dict[str, Any]:
    """Per method and degradation: mean Y-PSNR / SSIM gain over the degraded input, its minimum over
    images, and the same per image set (the part of the name before '/'). `files`: (name, an image
    file or an RGB uint8 array such as a clip frame)."""
    from kd.evaluate import as_rgb_u8, load_hr_u8

    per: dict[str, dict[str, list[tuple[str, float, float]]]] = {m.label: {d: [] for d in WEBCAM_BENCHMARK} for m in methods}
    for name, f in tqdm(files, desc="webcam benchmark", unit="img", disable=not progress, file=sys.stderr, dynamic_ncols=True):
        hr = modcrop(f if isinstance(f, np.ndarray) else as_rgb_u8(load_hr_u8(f)), 6)
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for d, lq in degraded_inputs(hr, name, seed).items():
            p0, s0 = y_scores(lq, y_hr)
            for m in methods:
                p, s = y_scores(m.restore(lq), y_hr)
                per[m.label][d].append((name.split("/")[0], p - p0, s - s0))
    out: dict[str, Any] = {}
    for label, by_deg in per.items():
        out[label] = {}
        for d, rows in by_deg.items():
            sets = sorted({r[0] for r in rows})
            out[label][d] = {
                "psnr_gain": float(np.mean([r[1] for r in rows])), "ssim_gain": float(np.mean([r[2] for r in rows])),
                "min_psnr_gain": float(min(r[1] for r in rows)), "n": len(rows),
                "sets": {s: float(np.mean([r[1] for r in rows if r[0] == s])) for s in sets},
            }
    return out


# ---------------------------------------------------------------- clips


def read_clip(path: Path, frames: int, max_width: int) -> list[np.ndarray]:
    """The first `frames` frames as RGB uint8, area-downscaled to at most `max_width` px wide (even sides)."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise WebcamBenchError(f"cannot open clip {path}: pass a video file OpenCV can decode")
    out = []
    try:
        while len(out) < frames:
            ok, bgr = cap.read()
            if not ok:
                break
            h, w = bgr.shape[:2]
            if w > max_width:
                nw, nh = max_width, round(h * max_width / w)
                bgr = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
            out.append(np.ascontiguousarray(modcrop(bgr, 2)[..., ::-1]))
    finally:
        cap.release()
    if len(out) < 2:
        raise WebcamBenchError(f"clip {path} gave {len(out)} frame(s): flicker needs at least 2")
    return out


def _still_sums(frames_in: list[np.ndarray], frames_out: list[np.ndarray], threshold: float) -> tuple[float, float, float]:
    """Over the input's still pixels (the 5 x 5 mean of its |dY| since the previous frame below `threshold`), summed over
    pixels and frames: the input's |dY|, the output's |dY|, and how many such pixels there were."""
    sum_in = sum_out = count = 0.0
    y_prev_in = y_prev_out = None
    for a, b in zip(frames_in, frames_out):
        y_in, y_out = y_channel_f64(a), y_channel_f64(b)
        if y_prev_in is not None:
            d_in = np.abs(y_in - y_prev_in)
            still = cv2.blur(d_in, (5, 5)) < threshold
            if still.any():
                sum_out += float(np.abs(y_out - y_prev_out)[still].sum())
                sum_in += float(d_in[still].sum())
                count += float(still.sum())
        y_prev_in, y_prev_out = y_in, y_out
    return sum_in, sum_out, count


def still_motion(frames_in: list[np.ndarray], frames_out: list[np.ndarray], threshold: float) -> tuple[float, float]:
    """Over the input's still pixels (as `still_flicker` counts them): the mean |dY| per pixel and frame of the input,
    and of the output, in grey levels (nan, nan where nothing is still).

    Their ratio is `still_flicker`. Where a codec repeats a still picture the input moves by thousandths of a level a
    frame, and the ratio of two such numbers measures next to nothing (sitting 17): read it beside these."""
    sum_in, sum_out, count = _still_sums(frames_in, frames_out, threshold)
    return (sum_in / count, sum_out / count) if count else (math.nan, math.nan)


def still_flicker(frames_in: list[np.ndarray], frames_out: list[np.ndarray], threshold: float) -> float:
    """Mean |dY| of the output over the input's still pixels, divided by the input's own (1.0 = none added)."""
    sum_in, sum_out, _ = _still_sums(frames_in, frames_out, threshold)
    return sum_out / sum_in if sum_in > 0 else math.nan


def laplacian_variance(rgb_u8: np.ndarray) -> float:
    return float(cv2.Laplacian(y_channel_f64(rgb_u8), cv2.CV_64F).var())


def score_clips(methods: list, clips: list[Path], frames: int, max_width: int, threshold: float, progress: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {m.label: {} for m in methods}
    for clip in clips:
        frames_in = read_clip(clip, frames, max_width)
        sharp_in = float(np.mean([laplacian_variance(f) for f in frames_in]))
        for m in tqdm(methods, desc=f"clip {clip.name}", unit="method", disable=not progress, file=sys.stderr, dynamic_ncols=True):
            frames_out = [m.restore(f) for f in frames_in]
            out[m.label][clip.name] = {
                "flicker": still_flicker(frames_in, frames_out, threshold),
                "sharpness_gain": float(np.mean([laplacian_variance(f) for f in frames_out])) / sharp_in,
                "frames": len(frames_in), "size": f"{frames_in[0].shape[1]}x{frames_in[0].shape[0]}",
            }
    return out


# ---------------------------------------------------------------- ringing


def ringing_card(size: int = 192) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic glasses-rim card: thin dark rings (1-2 px) and lines on flat skin-like and light
    backgrounds, drawn anti-aliased at 4x and area-downscaled. Returns (HR RGB uint8, mask of the flat
    band 3..10 px from any line)."""
    big = size * 4
    canvas = np.zeros((big, big, 3), np.uint8)
    canvas[:, : big // 2] = (205, 160, 140)  # skin-like
    canvas[:, big // 2 :] = (235, 235, 230)  # light wall
    ink = np.zeros((big, big), np.uint8)
    for cx, cy, r, t in ((big // 4, big // 4, 70 * 4 // 4, 6), (3 * big // 4, big // 4, 60, 4),
                         (big // 4, 3 * big // 4, 90, 8), (3 * big // 4, 3 * big // 4, 100, 5)):
        cv2.circle(ink, (cx, cy), r, 255, t, lineType=cv2.LINE_AA)
    cv2.line(ink, (40, big // 2), (big - 40, big // 2 + 30), 255, 6, lineType=cv2.LINE_AA)
    a = (ink.astype(np.float32) / 255.0)[..., None]
    dark = np.array((40, 30, 30), np.float32)
    canvas = (canvas.astype(np.float32) * (1 - a) + dark * a).round().astype(np.uint8)
    hr = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    line = cv2.resize(ink, (size, size), interpolation=cv2.INTER_AREA) > 16
    dist = cv2.distanceTransform((~line).astype(np.uint8), cv2.DIST_L2, 5)
    band = (dist >= 3) & (dist <= 10)
    band[:, size // 2 - 10 : size // 2 + 10] = False  # the background seam is an edge of its own
    return hr, band


def score_ringing(methods: list) -> dict[str, float]:
    hr, band = ringing_card()
    lq = bicubic_down_up(hr, 2)
    y_hr = y_channel_f64(hr)
    return {m.label: float(np.abs(y_channel_f64(m.restore(lq)) - y_hr)[band].mean()) for m in methods}


# ---------------------------------------------------------------- the whole benchmark


def bench_files(cfg: WebcamBenchConfig) -> list[tuple[str, Path | np.ndarray]]:
    """The images of every set, then `clip_images` frames of every clip (evenly spaced, at full size)
    used as originals too: real talking-head frames, degraded like the images."""
    from kd.evaluate import list_images

    files: list[tuple[str, Path | np.ndarray]] = [(f"{Path(s).name}/{f.name}", f) for s in cfg.sets for f in list_images(s)]
    for clip in cfg.clips if cfg.clip_images else ():
        frames = read_clip(Path(clip), 10_000, 1 << 14)
        for i in np.linspace(0, len(frames) - 1, cfg.clip_images).round().astype(int):
            files.append((f"{Path(clip).stem}/frame{i:04d}", frames[i]))
    if not files:
        raise WebcamBenchError("no images to benchmark: pass --set DIR")
    return files


def run_bench(cfg: WebcamBenchConfig, progress: bool = True, log=print) -> dict[str, Any]:
    from kd.evaluate import make_restorer

    import torch

    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(cfg.threads)
    clips = [Path(c) for c in cfg.clips]
    for c in clips:
        if not c.is_file():
            raise WebcamBenchError(f"clip {c} not found: pass --clip FILE (the shared clips are in ../shared/video/)")
    methods = [DegradedInput(), load_unsharp(cfg.unsharp)] + [make_restorer(m, cfg.threads) for m in cfg.models]
    images = score_images(methods, bench_files(cfg), cfg.seed, progress)
    clip_scores = score_clips(methods, clips, cfg.clip_frames, cfg.clip_max_width, cfg.still_threshold, progress) if clips else {}
    ringing = score_ringing(methods)
    rows = []
    for m in methods:
        rows.append({"label": m.label, "runtime": m.runtime, "precision": m.precision, "source": m.source, **m.info,
                     "degradations": images[m.label], "clips": clip_scores.get(m.label, {}), "ringing": ringing[m.label]})
    from kd.evaluate import _versions, command_line

    return {"command": command_line(), "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
            "unsharp": {"sigma": methods[1].sigma, "amount": methods[1].amount, "from": str(cfg.unsharp)},
            "versions": _versions(), "methods": rows}


def render_markdown(result: dict[str, Any]) -> str:
    rows = result["methods"]
    degs = list(WEBCAM_BENCHMARK)
    clips = sorted({c for r in rows for c in r["clips"]})
    head = ["method"] + [f"{d} ΔPSNR / ΔSSIM" for d in degs] + [f"{c} flicker / sharpness" for c in clips] + ["ringing (grey levels)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["label"]]
        cells += [f"{r['degradations'][d]['psnr_gain']:+.2f} / {r['degradations'][d]['ssim_gain']:+.4f}" for d in degs]
        cells += [f"{r['clips'][c]['flicker']:.2f} / {r['clips'][c]['sharpness_gain']:.2f}×" if c in r["clips"] else "–" for c in clips]
        cells.append(f"{r['ringing']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    cfg = result["config"]
    n = rows[0]["degradations"][degs[0]]["n"] if rows else 0
    notes = ["", f"Produced by: `{result['command']}`", "",
             f"Gains in dB / SSIM over the degraded input (Y BT.601, {SHAVE} px shaved), mean of {n} images from "
             f"{', '.join(Path(s).name for s in cfg['sets'])}"
             + (f" and {cfg['clip_images']} frames of each clip" if cfg.get("clip_images") and cfg["clips"] else "")
             + f"; noise seeded per image (seed {cfg['seed']}). "
             f"Clips: first {cfg['clip_frames']} frames at ≤ {cfg['clip_max_width']} px wide, flicker in still areas "
             f"(input |ΔY| < {cfg['still_threshold']:g}, 1.00 = none added), sharpness = variance-of-Laplacian ratio. "
             "Ringing: mean |Y error| 3–10 px beside thin dark lines on a flat card, ×2 bicubic (lower is better)."]
    worst = ["", "Per set (ΔPSNR, dB):", "",
             "| method | " + " | ".join(f"{d}" for d in degs) + " |", "|---|" + "---|" * len(degs)]
    for r in rows[1:]:
        cells = [" ".join(f"{s} {v:+.2f}" for s, v in r["degradations"][d]["sets"].items()) + f" (min {r['degradations'][d]['min_psnr_gain']:+.2f})"
                 for d in degs]
        worst.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines + notes + worst) + "\n"


# ---------------------------------------------------------------- commands


def write_bench(result: dict[str, Any], out: str | Path) -> list[Path]:
    """<out>.md and <out>.json, each through .partial + rename."""
    import os

    from kd.export import write_json_atomic

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    md, js = out.with_name(out.name + ".md"), out.with_name(out.name + ".json")
    tmp = md.with_name(md.name + ".partial")
    tmp.write_text(render_markdown(result))
    os.replace(tmp, md)
    write_json_atomic(js, result)
    return [md, js]


def unsharp_fit(cfg: UnsharpFitConfig, log=print) -> dict[str, Any]:
    """Runs the grid search and writes the frozen baseline (TOML, with the command and the grid)."""
    import os

    from kd.evaluate import command_line, read_list_file

    files = read_list_file(cfg.images)
    sigma, amount, grid = fit_unsharp(files, cfg.sigmas, cfg.amounts, cfg.crop)
    best = next(g for g in grid if g["sigma"] == sigma and g["amount"] == amount)
    lines = [
        "# The unsharp-mask baseline of the webcam benchmark, frozen: grid-searched once under x2 bicubic",
        f"# on {len(files)} training-split images ({cfg.images}, centre crops of {cfg.crop} px), never on evaluation images.",
        f"# Produced by: {command_line()}",
        "[unsharp]",
        f"sigma = {sigma}",
        f"amount = {amount}",
        f"psnr_gain_x2_train = {best['psnr_gain']:.4f}",
        "",
        "[grid]  # mean Y-PSNR gain (dB) per sigma, amounts in order",
        f"amounts = {list(cfg.amounts)}",
    ]
    for s in cfg.sigmas:
        gains = [round(g["psnr_gain"], 4) for g in grid if g["sigma"] == s]
        lines.append(f'"{s}" = {gains}')
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    log(f"unsharp baseline: sigma {sigma}, amount {amount} (+{best['psnr_gain']:.3f} dB on the training split, x2) -> {out}")
    return {"sigma": sigma, "amount": amount, "psnr_gain": best["psnr_gain"]}
