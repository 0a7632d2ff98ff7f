"""The first 150 frames of talking_720p.mp4 as a small encoded stream up-scaled by the receiver (each frame
area-halved, JPEG q40, bicubic x2 back), written once as a lossless FFV1 clip: the blocky stream that
runs/bench_s9.sh and runs/bench_s11.sh time a model pair on.  python runs/blocky_720p.py OUT.mkv"""
import sys

import cv2


def write_clip(out: str, degrade_bgr) -> None:
    """The first 150 frames of talking_720p.mp4, each through `degrade_bgr` (BGR -> BGR of the same size), as FFV1."""
    cap = cv2.VideoCapture("../shared/video/talking_720p.mp4")
    writer = None
    for _ in range(150):
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        if writer is None:
            writer = cv2.VideoWriter(out, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 30, (w, h))
        writer.write(degrade_bgr(frame))
    if writer is None:
        sys.exit("no frames read from ../shared/video/talking_720p.mp4: run from the repository root, with ../shared beside it")
    writer.release()


def small_jpeg(frame):
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    small = cv2.imdecode(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


if __name__ == "__main__":
    write_clip(sys.argv[1], small_jpeg)
