"""Guest helper, run as its own process (a second app): open DEV with OpenCV, read one frame, close;
N times. Prints JSON: {"errors": [...], "cycle_s": [...]}.

    python3 guest/open_close.py /dev/video10 20
"""

from __future__ import annotations

import json
import sys
import time

import cv2


def main(dev: str, n: int) -> None:
    errors, cycle_s = [], []
    for i in range(n):
        t0 = time.monotonic()
        cap = cv2.VideoCapture(dev, cv2.CAP_V4L2)
        try:
            if not cap.isOpened():
                errors.append(f"cycle {i}: VideoCapture did not open")
            else:
                ok, frame = cap.read()
                if not ok or frame is None:
                    errors.append(f"cycle {i}: read failed")
        finally:
            cap.release()
        cycle_s.append(round(time.monotonic() - t0, 3))
    print(json.dumps({"errors": errors, "cycle_s": cycle_s}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
