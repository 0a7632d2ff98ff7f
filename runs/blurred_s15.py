"""Sitting 15: the runtime on strongly blurred streams, the ones a card's blur model is for (vcam/detect.py
BlurSwitch), measured as runs/steady_s11.py measures streams: through the runtime's own frame processor (the gate,
the switches and their hysteresis, I420, the default steadying), against each stream's own sharp frames.

Streams (first 60 frames; the shared clips at <= 640 px wide, as `kd evaluate --webcam`):
- the shared clips down-up x3 (area down, bicubic up: a camera three times below the call's size, or defocus);
- the same at a third of the size through real H.264 at CRF 23, then up x3 (runs/h264_s9.py);
- the still scenes of scikit-image's photos with sensor noise per frame (runs/unseen_s11.py), a third of the size
  through H.264 CRF 23, up x3.
Per stream and card: Y-PSNR gain over the input (dB) / still-area flicker (1.00 = none added), and the frames that went
to the card's blur model and its alternate, and that its gate passed. Writes runs/eval/blurred-s15.md, or OUT.md.
python runs/blurred_s15.py [--out OUT] CARD.json [MORE_CARDS ...]
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
from h264_s9 import command_line, degrade, out_argument, write_table  # noqa: E402
from steady_s11 import run_stream  # noqa: E402
from unseen_s11 import STILL, photo_rgb_u8, still_clip  # noqa: E402

FRAMES = 60


def down_up(frames: list[np.ndarray], factor: int) -> list[np.ndarray]:
    h, w = frames[0].shape[:2]
    return [cv2.resize(cv2.resize(f, (w // factor, h // factor), interpolation=cv2.INTER_AREA), (w, h),
                       interpolation=cv2.INTER_CUBIC) for f in frames]


DEFAULT_OUT = Path("runs/eval/blurred-s15.md")


def stream_rows(cards: list[str], streams: dict[str, tuple[list[np.ndarray], list[np.ndarray]]],
                still_threshold: float) -> dict[str, dict[str, str]]:
    """Per stream and card: "gain / flicker (frames to the blur model, the alternate, passed by the gate)", each stream
    (degraded frames, their references' shaved Y) through the runtime's frame processor at the default steadying."""
    rows: dict[str, dict[str, str]] = {Path(c).stem: {} for c in cards}
    for card in cards:
        for name, (lq, y_refs) in streams.items():
            procs: list = []
            result = run_stream(card, DaemonConfig().steady, lq, procs)
            blur, switch, gate = procs[0].blur, procs[0].switch, procs[0].gate
            counts = [f"{blur.frames[1]} blur"] if blur is not None else []
            counts += [f"{switch.frames[1]} alt."] if switch is not None and switch.frames[1] else []
            counts += [f"{gate.frames[1]} passed"] if gate is not None and gate.frames[1] else []
            note = f" ({', '.join(counts)} of {len(lq)})" if counts else ""
            gain = np.mean([y_scores(o, y)[0] - y_scores(f, y)[0] for o, f, y in zip(result, lq, y_refs)])
            rows[Path(card).stem][name] = f"{gain:+.2f} / {still_flicker(lq, result, still_threshold):.2f}{note}"
        print(f"{card} done", file=sys.stderr)
    return {name: {label: rows[label][name] for label in rows} for name in streams}


def blurred_streams(cfg: WebcamBenchConfig) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per stream: its frames (RGB uint8) and their references' shaved Y planes."""
    streams: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for clip in cfg.clips:
        refs = [modcrop(f, 6) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        stem = Path(clip).stem
        streams[f"{stem} x3"] = (down_up(refs, 3), y_refs)
        streams[f"{stem} x3 + h264 crf23"] = (degrade(refs, 3, 23), y_refs)
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 6)
        noisy = still_clip(ref, np.random.default_rng(i))
        streams[f"{scene} (still) x3 crf23"] = (degrade(noisy, 3, 23), [shave(y_channel_f64(ref), SHAVE)] * FRAMES)
    return streams


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    by_stream = stream_rows(cards, blurred_streams(cfg), cfg.still_threshold)
    write_table("# The runtime on strongly blurred streams (vcam FrameProcessor, default steadying and hysteresis)", by_stream,
                f"Per stream: Y-PSNR gain over the input (dB) against its sharp frames / still-area flicker (1.00 = none added); "
                f"(n blur, k alt., j passed of m): frames the card's blur model, its alternate took, and its gate passed. First {FRAMES} frames, clips at <= {cfg.clip_max_width} px wide; "
                "x3: area down, bicubic up; + h264: encoded by libx264 at a third of the size.",
                command_line("blurred_s15.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/blurred_s15.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
