"""Sitting 18: what one check of a card's strength ramp costs in the runtime (vcam/detect.py StrengthRamp, the
preallocated object the pre stage holds: the resampling figures, and the re-blur ratio where they read a resampling), on
the first frame of ../shared/video/talking_720p.mp4 at 720p and up-scaled to 1080p (OpenCV's cubic: itself a x1.5
up-scale, which the ramp reads), and on the same frames down-up x1.5 (area, then OpenCV's cubic). One thread (OpenCV's), median of 50 after 5 warm-up calls, as
runs/gate_cost_s14.py. The ramp checks every `switch-every` frames (15 by default), only on frames left to the card's
own model. Run on a quiet machine.  python runs/ramp_cost_s18.py   (prints a Markdown table and the CPU)
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from vcam.detect import StrengthRamp  # noqa: E402
from gate_cost_s14 import cpu_name, first_frame, median_ms  # noqa: E402
from mild_720p import down_up_x15  # noqa: E402

RAMP = (8, 0.49, 0.89, 4.2407, 0.9545)  # runs/onnx/s18-pair-ramp.json's step, ends and cuts


def main() -> None:
    bgr, cpu = first_frame(), cpu_name()
    print(f"CPU: {cpu}, one thread\n\n| frame | one check (ms) | share | the same x1.5 down-up: one check (ms) | share |\n|---|---|---|---|---|")
    for label, size in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        row = [label]
        frame = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
        for f in (frame, down_up_x15(frame)):
            y = np.ascontiguousarray(cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)[: size[1]])
            ramp = StrengthRamp(size[0], size[1], *RAMP)
            row += [f"{median_ms(lambda: ramp.target_of(y)):.1f}", f"{ramp.target_of(y):.2f}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
