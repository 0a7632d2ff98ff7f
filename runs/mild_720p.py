"""The first 150 frames of talking_720p.mp4 up-scaled a little: each frame area-down to 853 x 480 (x1.5) and bicubic-up
back (a 480p camera or stream shown at 720p), written once as a lossless FFV1 clip (runs/blocky_720p.py's writer): the
stream on which runs/bench_s18.sh times a card's strength ramp (vcam/detect.py StrengthRamp).
python runs/mild_720p.py OUT.mkv"""
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blocky_720p import write_clip  # noqa: E402


def down_up_x15(frame):
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (round(w / 1.5), round(h / 1.5)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


if __name__ == "__main__":
    write_clip(sys.argv[1], down_up_x15)
