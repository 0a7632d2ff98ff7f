"""Sitting 16: what a lens-blur card's second figure costs the runtime. Per check (one frame in `switch_every`, and only
where the textured figure is below the blur cut), vcam/detect.py Resampling on a 720p and a 1080p Y plane, beside the
gate's own Texture at step 8 on the same plane: median (min) of 50 calls on one thread, after 5 warm-up calls. The plane
is talking_720p.mp4's first frame down-up x3 (what the figure then sees), scaled to each size. Prints a Markdown table
and the CPU it ran on.  python runs/resampling_cost_s16.py"""
import platform
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vcam.detect import Resampling, Texture  # noqa: E402


def timed(fn, y, n=50):
    for _ in range(5):
        fn(y)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn(y)
        times.append((time.perf_counter() - t) * 1e3)
    return f"{np.median(times):.2f} ({min(times):.2f})"


if __name__ == "__main__":
    cv2.setNumThreads(1)
    ok, frame = cv2.VideoCapture("../shared/video/talking_720p.mp4").read()
    if not ok:
        sys.exit("cannot read ../shared/video/talking_720p.mp4: run from the repository root, with ../shared beside it")
    y = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                if line.startswith("Model name")), platform.processor())
    print(f"CPU: {cpu}\n\n| plane | Texture (step 8), ms | Resampling, ms |\n|---|---|---|")
    for w, h in ((1280, 720), (1920, 1080)):
        plane = cv2.resize(cv2.resize(cv2.resize(y, (w, h)), (w // 3, h // 3), interpolation=cv2.INTER_AREA), (w, h),
                           interpolation=cv2.INTER_CUBIC)
        print(f"| {w}x{h} | {timed(Texture(w, h, 8), plane)} | {timed(Resampling(w, h), plane)} |")
