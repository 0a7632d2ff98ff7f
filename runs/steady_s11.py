"""Sitting 11: the runtime's steadying (`--steady`, vcam/transforms.py SteadyChange) on streams, measured through
the runtime's own frame processor (vcam/processor.py, as `sharpcam start` and `enhance` run it: the card's switch
with the daemon's hysteresis, I420, the Y change added to the frame's own colour).

Streams (each frame a picture; first 60 frames; the shared clips at <= 640 px wide, as `kd evaluate --webcam`):
- the shared clips as they are (no reference: still-area flicker and the variance-of-Laplacian sharpness ratio);
- the shared clips through real H.264 (runs/h264_s9.py: full size CRF 30, half size CRF 30 up-scaled x2) and
  as a small JPEG stream up-scaled (runs/blocky_clips_s9.py), against their own frames: Y-PSNR gain and flicker;
- the still scenes of scikit-image's photos with sensor noise per frame through H.264 (runs/unseen_s11.py), full
  size and half size x2 at CRF 23, against the clean photo.
Per card: `--steady 0` (off) and the default. Writes runs/eval/steady-s11.md, or OUT.md.
python runs/steady_s11.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import modcrop  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, laplacian_variance, read_clip, still_flicker, y_scores  # noqa: E402
from vcam.config import DaemonConfig  # noqa: E402
from vcam.engine import load_engine  # noqa: E402
from vcam.processor import FrameProcessor  # noqa: E402
from blocky_clips_s9 import small_jpeg_stream  # noqa: E402
from h264_s9 import command_line, degrade, out_argument, write_table  # noqa: E402
from unseen_s11 import STILL, photo_rgb_u8, still_clip  # noqa: E402

FRAMES = 60


def run_stream(card: str, steady: float, frames_rgb: list[np.ndarray], processors: list | None = None) -> list[np.ndarray]:
    """The frames (RGB uint8) through the runtime's frame processor as one stream -> RGB uint8 (the processor is
    appended to `processors` if given, for its switches' counts)."""
    h, w = frames_rgb[0].shape[:2]
    cfg = DaemonConfig(model=card, steady=steady, threads=2)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", cfg.threads), (w, h), offline=True)
    out, bgr = proc.new_output(), np.empty((h, w, 3), np.uint8)
    result = []
    for f in frames_rgb:
        src = np.ascontiguousarray(f[:, :, ::-1])
        proc.process(src, out)
        result.append(proc.to_bgr(out, bgr, src)[:, :, ::-1].copy())
    if processors is not None:
        processors.append(proc)
    return result


def cell(lq: list[np.ndarray], out: list[np.ndarray], y_refs: list[np.ndarray] | None, threshold: float) -> str:
    flicker = still_flicker(lq, out, threshold)
    if y_refs is None:
        sharp = np.mean([laplacian_variance(f) for f in out]) / np.mean([laplacian_variance(f) for f in lq])
        return f"{flicker:.2f} / {sharp:.2f}x"
    gain = np.mean([y_scores(o, y)[0] for o, y in zip(out, y_refs)]) - np.mean([y_scores(f, y)[0] for f, y in zip(lq, y_refs)])
    return f"{gain:+.2f} / {flicker:.2f}"


DEFAULT_OUT = Path("runs/eval/steady-s11.md")


def steady_streams(cfg: WebcamBenchConfig) -> dict[str, tuple[list[np.ndarray], list[np.ndarray] | None]]:
    """Per stream: its frames (RGB uint8) and their references' shaved Y planes (None for the clips as they are)."""
    streams: dict[str, tuple[list[np.ndarray], list[np.ndarray] | None]] = {}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        stem = Path(clip).stem
        streams[f"{stem} as it is"] = (refs, None)
        streams[f"{stem} h264 crf30"] = (degrade(refs, 1, 30), y_refs)
        streams[f"{stem} x2 + h264 crf30"] = (degrade(refs, 2, 30), y_refs)
        streams[f"{stem} small JPEG q40 x2"] = ([small_jpeg_stream(f) for f in refs], y_refs)
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 4)
        noisy = still_clip(ref, np.random.default_rng(i))
        y_ref = [shave(y_channel_f64(ref), SHAVE)] * FRAMES
        streams[f"{scene} (still) crf23"] = (degrade(noisy, 1, 23), y_ref)
        streams[f"{scene} (still) x2 crf23"] = (degrade(noisy, 2, 23), y_ref)
    return streams


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    streams = steady_streams(cfg)
    default = DaemonConfig().steady
    rows: dict[str, dict[str, str]] = {}
    for card in cards:
        for steady in (0.0, default):
            label = f"{Path(card).stem}, steady {steady:g}" + (" (off)" if steady == 0 else " (default)")
            rows[label] = {}
            for name, (lq, y_refs) in streams.items():
                rows[label][name] = cell(lq, run_stream(card, steady, lq), y_refs, cfg.still_threshold)
            print(f"{label} done", file=sys.stderr)
    # one stream per column would make a table too wide to read: streams as rows, runs as columns
    by_stream = {name: {label: rows[label][name] for label in rows} for name in streams}
    write_table("# The runtime's steadying on streams (vcam FrameProcessor, the daemon's switch hysteresis)", by_stream,
                f"Per stream: Y-PSNR gain over the input (dB) against its reference / still-area flicker (1.00 = none added); "
                f"for the clips as they are (no reference): flicker / sharpness ratio. First {FRAMES} frames, clips at <= "
                f"{cfg.clip_max_width} px wide; still scenes: scikit-image photos with sensor noise per frame, then libx264.",
                command_line("steady_s11.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/steady_s11.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
