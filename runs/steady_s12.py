"""Sitting 12: the runtime's steadying with a still bar that rises with the picture's noise (vcam/transforms.py
SteadyChange: 2.25 x the noise's sigma, the smaller of a temporal and a spatial low-decile estimate, averaged over
estimates taken every 4th frame, between STILL_LEVELS and MAX_STILL_LEVELS) against sitting 11's fixed bar
(STILL_LEVELS; here by setting MAX_STILL_LEVELS to it), and off.

Streams, through the runtime's own frame processor (runs/steady_s11.py run_stream), first 60 frames:
- moving pictures: the shared clips as they are (flicker / sharpness ratio), through full-size H.264 CRF 30 and
  as a small JPEG q40 stream up-scaled x2 (Y-PSNR gain against their own frames / flicker);
- still scenes of scikit-image's photos (astronaut face, coffee, cameraman) with fresh sensor noise per frame at
  three light levels (read sigma 2 / 5 / 8, shot gain 0.04 / 0.08 / 0.12), raw and as MJPG q85: gain against
  the clean photo / flicker over every pixel (the scene does not move, so every pixel is still).
Writes runs/eval/steady-s12.md, or OUT.md: python runs/steady_s12.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcam.transforms as transforms  # noqa: E402
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import add_sensor_noise, jpeg_cv2, modcrop  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, read_clip  # noqa: E402
from vcam.config import DaemonConfig  # noqa: E402
from blocky_clips_s9 import small_jpeg_stream  # noqa: E402
from h264_s9 import command_line, degrade, out_argument, write_table  # noqa: E402
from steady_s11 import cell, run_stream  # noqa: E402
from unseen_s11 import STILL, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/steady-s12.md")
FRAMES = 60
LIGHT = {"bright": (2.0, 0.04), "dim": (5.0, 0.08), "dark": (8.0, 0.12)}  # read sigma, shot gain (0..255 units)


def streams(cfg: WebcamBenchConfig) -> dict[str, tuple[list[np.ndarray], list[np.ndarray] | None, float]]:
    """name -> (frames, reference Y planes or None, the flicker metric's still threshold)."""
    out: dict[str, tuple[list[np.ndarray], list[np.ndarray] | None, float]] = {}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        stem = Path(clip).stem
        out[f"{stem} as it is"] = (refs, None, cfg.still_threshold)
        out[f"{stem} h264 crf30"] = (degrade(refs, 1, 30), y_refs, cfg.still_threshold)
        out[f"{stem} small JPEG q40 x2"] = ([small_jpeg_stream(f) for f in refs], y_refs, cfg.still_threshold)
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 4)
        y_ref = [shave(y_channel_f64(ref), SHAVE)] * FRAMES
        for light, (read, shot) in LIGHT.items():
            rng = np.random.default_rng(i)
            noisy = [add_sensor_noise(ref, rng, read, shot) for _ in range(FRAMES)]
            out[f"{scene} (still), {light}, raw"] = (noisy, y_ref, float("inf"))
            out[f"{scene} (still), {light}, MJPG q85"] = ([jpeg_cv2(f, 85) for f in noisy], y_ref, float("inf"))
    return out


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    data = streams(cfg)
    default, adaptive_cap = DaemonConfig().steady, transforms.MAX_STILL_LEVELS
    runs = [("steady 0 (off)", 0.0, adaptive_cap),
            (f"steady {default:g}, fixed bar ({transforms.STILL_LEVELS} levels, sitting 11)", default, transforms.STILL_LEVELS),
            (f"steady {default:g}, bar rising with noise (default)", default, adaptive_cap)]
    rows: dict[str, dict[str, str]] = {name: {} for name in data}
    try:
        for card in cards:
            for label, steady, cap in runs:
                transforms.MAX_STILL_LEVELS = cap
                for name, (lq, y_refs, threshold) in data.items():
                    rows[name][f"{Path(card).stem}, {label}"] = cell(lq, run_stream(card, steady, lq), y_refs, threshold)
                print(f"{card}, {label} done", file=sys.stderr)
    finally:
        transforms.MAX_STILL_LEVELS = adaptive_cap
    write_table("# The runtime's steadying: a still bar that rises with the noise (vcam FrameProcessor)", rows,
                f"Per stream: Y-PSNR gain over the input (dB) against its reference / still-area flicker (1.00 = none added; "
                f"still scenes: over every pixel); for the clips as they are (no reference): flicker / sharpness ratio. "
                f"First {FRAMES} frames, clips at <= {cfg.clip_max_width} px wide. Light: read sigma / shot gain "
                + ", ".join(f"{k} {r:g} / {g:g}" for k, (r, g) in LIGHT.items()) + ".",
                command_line("steady_s12.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/steady_s12.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
