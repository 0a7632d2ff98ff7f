"""The first 150 frames of talking_720p.mp4 out of focus: each frame blurred by a disc of radius 3 px (kd/degrade.py
defocus_blur, a lens out of focus) with sensor noise (read sigma 2, shot gain 0.04, seeded per frame), written once as a
lossless FFV1 clip (runs/blocky_720p.py's writer): the stream that runs/bench_s16.sh times a card's lens-blur model on.
python runs/defocused_720p.py OUT.mkv"""
import sys
from itertools import count
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import add_sensor_noise, defocus_blur  # noqa: E402
from blocky_720p import write_clip  # noqa: E402

_frame = count()


def defocused(frame_bgr):
    rng = np.random.default_rng([16, next(_frame)])
    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    return cv2.cvtColor(add_sensor_noise(defocus_blur(rgb, 3.0), rng, 2.0, 0.04), cv2.COLOR_RGB2BGR)


if __name__ == "__main__":
    write_clip(sys.argv[1], defocused)
