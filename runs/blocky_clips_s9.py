"""Sitting 9: the specialists on the stream they are for, a talking head as a bandwidth-starved call.

With the detail cut, the shared clips as they are never reach a pair's specialist, so their flicker says
nothing about it. Here the clips' first 60 frames (<= 640 px wide, as the webcam benchmark reads them)
become a small JPEG stream up-scaled by the receiver: each frame area-halved, JPEG q40, bicubic x2 back
(the benchmark's x2 + JPEG q40, frame by frame). Per method: Y-PSNR gain over that input against the clip's
own frames (as `kd evaluate --webcam`: Y BT.601, 3 px shaved, mean over frames), still-area flicker, and
for a pair the frames its switch sent to its alternate (each frame decides; the daemon adds hysteresis).
Writes runs/eval/blocky-clips-s9.md, or OUT.md: python runs/blocky_clips_s9.py [--out OUT] CARD.json [MORE_CARDS ...]
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
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, DegradedInput, load_unsharp, read_clip  # noqa: E402
from h264_s9 import clip_cells, command_line, out_argument, write_table  # noqa: E402

FRAMES, QUALITY = 60, 40
DEFAULT_OUT = Path("runs/eval/blocky-clips-s9.md")


def small_jpeg_stream(rgb_u8: np.ndarray) -> np.ndarray:
    h, w = rgb_u8.shape[:2]
    small = cv2.resize(rgb_u8, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    assert ok
    return np.ascontiguousarray(cv2.resize(cv2.imdecode(data, cv2.IMREAD_COLOR), (w, h), interpolation=cv2.INTER_CUBIC)[:, :, ::-1])


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    methods = [DegradedInput(), load_unsharp(cfg.unsharp)] + [make_restorer(c, 2) for c in cards]
    rows: dict[str, dict[str, str]] = {m.label: {} for m in methods}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        for label, cell in clip_cells(methods, [small_jpeg_stream(f) for f in refs], y_refs, cfg.still_threshold).items():
            rows[label][Path(clip).stem] = cell
    write_table(f"# The clips as a small JPEG stream up-scaled (each frame halved, JPEG q{QUALITY}, bicubic x2)", rows,
                f"Y-PSNR gain over the input (dB) against the clip's own frames / still-area flicker (1.00 = none added); "
                f"first {FRAMES} frames at <= {cfg.clip_max_width} px wide; (n/m alt.): frames a pair sent to its alternate.",
                command_line("blocky_clips_s9.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    main(*out_argument(sys.argv[1:], DEFAULT_OUT))
