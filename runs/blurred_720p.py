"""The first 150 frames of talking_720p.mp4 strongly blurred: each frame area-down x3 and bicubic-up back (a camera
three times below the call's size, or out of focus), written once as a lossless FFV1 clip (runs/blocky_720p.py's
writer): the stream that runs/bench_s15.sh times a card's blur model on.  python runs/blurred_720p.py OUT.mkv"""
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blocky_720p import write_clip  # noqa: E402


def down_up_x3(frame):
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


if __name__ == "__main__":
    write_clip(sys.argv[1], down_up_x3)
