"""Sitting 18: the runtime on mildly up-scaled streams, the ones a card's strength ramp is for (vcam/detect.py
StrengthRamp), measured as runs/blurred_s15.py measures streams: through the runtime's own frame processor (the gate,
the switches, the ramp and their cadence and hysteresis, I420, the default steadying), against each stream's own frames.

Streams (first 60 frames; the shared clips at <= 640 px wide, as `kd evaluate --webcam`):
- the shared clips down-up x1.5 and x4/3 (area down, OpenCV's cubic up: a camera or stream a little below the call's size);
- the still scenes of scikit-image's photos with sensor noise per frame (runs/unseen_s11.py), down-up x1.5.
Per stream and card: Y-PSNR gain over the input (dB) / still-area flicker (1.00 = none added), and (share s) the share
of the change the card's ramp gave the last frame. Reported beside runs/results_s18b.sh's and results_s18c.sh's rules, not
part of them. Writes runs/eval/mild-streams-s18.md, or OUT.md.
python runs/mild_streams_s18.py [--out OUT] CARD.json [MORE_CARDS ...]
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
from kd.webcam import SHAVE, read_clip, still_flicker, y_scores  # noqa: E402
from vcam.config import DaemonConfig  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from steady_s11 import run_stream  # noqa: E402
from unseen_s11 import STILL, photo_rgb_u8, still_clip  # noqa: E402

FRAMES = 60
DEFAULT_OUT = Path("runs/eval/mild-streams-s18.md")


def down_up(frames: list[np.ndarray], factor: float) -> list[np.ndarray]:
    h, w = frames[0].shape[:2]
    return [cv2.resize(cv2.resize(f, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA), (w, h),
                       interpolation=cv2.INTER_CUBIC) for f in frames]


def mild_streams(cfg: WebcamBenchConfig) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per stream: its frames (RGB uint8) and their references' shaved Y planes."""
    streams: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for clip in cfg.clips:
        refs = [modcrop(f, 12) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        stem = Path(clip).stem
        streams[f"{stem} x1.5"] = (down_up(refs, 1.5), y_refs)
        streams[f"{stem} x4/3"] = (down_up(refs, 4 / 3), y_refs)
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 12)
        streams[f"{scene} (still) x1.5"] = (down_up(still_clip(ref, np.random.default_rng(i)), 1.5),
                                             [shave(y_channel_f64(ref), SHAVE)] * FRAMES)
    return streams


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    streams = mild_streams(cfg)
    rows: dict[str, dict[str, str]] = {name: {} for name in streams}
    for card in cards:
        for name, (lq, y_refs) in streams.items():
            procs: list = []
            result = run_stream(card, DaemonConfig().steady, lq, procs)
            ramp, gate = procs[0].ramp, procs[0].gate
            note = [f"share {ramp.share:.2f}"] if ramp is not None else []
            note += [f"{gate.frames[1]} passed"] if gate is not None and gate.frames[1] else []
            gain = np.mean([y_scores(o, y)[0] - y_scores(f, y)[0] for o, f, y in zip(result, lq, y_refs)])
            rows[name][Path(card).stem] = f"{gain:+.2f} / {still_flicker(lq, result, cfg.still_threshold):.2f}" + (
                f" ({', '.join(note)})" if note else "")
        print(f"{card} done", file=sys.stderr)
    write_table("# The runtime on mildly up-scaled streams (vcam FrameProcessor, default steadying and hysteresis)", rows,
                f"Per stream: Y-PSNR gain over the input (dB) against its own frames / still-area flicker (1.00 = none added); "
                "(share s, j passed): the share of the change the card's ramp gave the last frame, the frames its gate "
                f"passed. First {FRAMES} frames, clips at <= {cfg.clip_max_width} px wide; area down, OpenCV's cubic up.",
                command_line("mild_streams_s18.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/mild_streams_s18.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
