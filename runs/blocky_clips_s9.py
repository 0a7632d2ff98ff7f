"""Sitting 9: the specialists on the stream they are for, a talking head as a bandwidth-starved call.

With the detail cut, the shared clips as they are never reach a pair's specialist, so their flicker says
nothing about it. Here the clips' first 60 frames (<= 640 px wide, as the webcam benchmark reads them)
become a small JPEG stream up-scaled by the receiver: each frame area-halved, JPEG q40, bicubic x2 back
(the benchmark's x2 + JPEG q40, frame by frame). Per method: Y-PSNR gain over that input against the clip's
own frames (as `kd evaluate --webcam`: Y BT.601, 3 px shaved, mean over frames), still-area flicker, and
for a pair the frames its switch sent to its alternate (each frame decides; the daemon adds hysteresis).
Writes runs/eval/blocky-clips-s9.md. python runs/blocky_clips_s9.py CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import modcrop  # noqa: E402
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer  # noqa: E402
from kd.webcam import SHAVE, DegradedInput, load_unsharp, read_clip, still_flicker, y_scores  # noqa: E402

FRAMES, QUALITY = 60, 40


def small_jpeg_stream(rgb_u8: np.ndarray) -> np.ndarray:
    h, w = rgb_u8.shape[:2]
    small = cv2.resize(rgb_u8, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    assert ok
    return np.ascontiguousarray(cv2.resize(cv2.imdecode(data, cv2.IMREAD_COLOR), (w, h), interpolation=cv2.INTER_CUBIC)[:, :, ::-1])


def main(cards: list[str]) -> None:
    cfg = WebcamBenchConfig()
    methods = [DegradedInput(), load_unsharp(cfg.unsharp)] + [make_restorer(c, 2) for c in cards]
    rows: dict[str, list[str]] = {m.label: [] for m in methods}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        lq = [small_jpeg_stream(f) for f in refs]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        base = np.mean([y_scores(f, y)[0] for f, y in zip(lq, y_refs)])
        for m in methods:
            if isinstance(m, SwitchedRestorer):
                m.chosen = [0, 0]
            out = [m.restore(f) for f in lq]
            gain = np.mean([y_scores(f, y)[0] for f, y in zip(out, y_refs)]) - base
            cell = f"{gain:+.2f} / {still_flicker(lq, out, cfg.still_threshold):.2f}"
            rows[m.label].append(cell + (f" ({m.chosen[1]}/{sum(m.chosen)})" if isinstance(m, SwitchedRestorer) else ""))
    names = [Path(c).stem for c in cfg.clips]
    lines = [f"# The clips as a small JPEG stream up-scaled (each frame halved, JPEG q{QUALITY}, bicubic x2)", "",
             "| method | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows.items()]
    lines += ["", f"Y-PSNR gain over the input (dB) against the clip's own frames / still-area flicker (1.00 = none added); "
              f"first {FRAMES} frames at <= {cfg.clip_max_width} px wide; (n/m): frames a pair sent to its alternate.",
              "", "Produced by: `python runs/blocky_clips_s9.py " + " ".join(cards) + "`"]
    out = Path("runs/eval/blocky-clips-s9.md")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
