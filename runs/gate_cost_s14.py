"""Sitting 14: what one check of the sharp-picture gate costs in the runtime (vcam/detect.py, the preallocated
objects the pre stage holds), on the first frame of ../shared/video/talking_720p.mp4 at 720p and up-scaled to 1080p:
the textured figure alone (the one-cut gate, and every check where the first figure says "blurred") and with the
re-blur ratio (a two-cut gate, where the first figure says "sharp"). One thread (OpenCV's), median of 50 after 5 warm-up
calls. The gate checks every `switch-every` frames (15 by default). Run on a quiet machine.
python runs/gate_cost_s14.py   (prints a Markdown table and the CPU)
"""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vcam.detect import Reblur  # noqa: E402

CLIP = Path("../shared/video/talking_720p.mp4")


def median_ms(fn, repeats: int = 50) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def interleaved_median_ms(runs: dict, rounds: int = 11) -> dict:
    """Each named callable's median time in ms over `rounds` rounds that take them in turn (a warm-up call before each
    timed one), so that a machine's slow spell falls on all of them alike."""
    times = {n: [] for n in runs}
    for _ in range(rounds):
        for n, run in runs.items():
            run()
            t0 = time.perf_counter()
            run()
            times[n].append(1e3 * (time.perf_counter() - t0))
    return {n: float(np.median(v)) for n, v in times.items()}


def cpu_name() -> str:
    """The CPU's model name, as lscpu gives it."""
    return next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                 if line.startswith("Model name")), platform.processor())


def first_frame() -> np.ndarray:
    """The shared clip's first frame (BGR), one OpenCV thread set for the timings."""
    cv2.setNumThreads(1)
    ok, bgr = cv2.VideoCapture(str(CLIP)).read()
    if not ok:
        sys.exit(f"cannot read {CLIP}: run from the checkout with ../shared beside it")
    return bgr


def main() -> None:
    bgr, cpu = first_frame(), cpu_name()
    print(f"CPU: {cpu}, one thread\n\n| frame | textured figure (ms) | textured + re-blur ratio (ms) |\n|---|---|---|")
    for label, size in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        frame = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
        y = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)[: size[1]])
        reblur = Reblur(size[0], size[1], 8)
        print(f"| {label} | {median_ms(lambda: reblur.texture(y)):.1f} | {median_ms(lambda: reblur(y)):.1f} |")


if __name__ == "__main__":
    main()
