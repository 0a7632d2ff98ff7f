"""Where finished frames go: a v4l2loopback virtual camera, a video file, or nowhere.

Each sink is a context manager opened at a fixed frame size and rate; `send(bgr_u8)` takes a
BGR uint8 (H, W, 3) frame of exactly that size. The publish stage does the pacing (constant rate,
re-sends, placeholders); sinks only write.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from vcam.config import OUTPUT_CAMERA, OUTPUT_NULL, SharpCamError
from vcam.devices import MODPROBE_COMMAND, SHARPCAM_LABEL

# Output container (by suffix) -> codec. .mkv is lossless (FFV1) for exact offline results.
FILE_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}


class NullSink:
    """Discards frames (benchmarks); counts them."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.label = "null"

    def send(self, bgr_u8: np.ndarray) -> None:
        self.frames += 1

    def close(self, complete: bool = True) -> None:
        pass

    def __enter__(self) -> "NullSink":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(complete=exc_type is None)


def partial_path(path: Path) -> Path:
    """Where a file is written before it is complete: out.mp4 -> out.partial.mp4.

    The suffix stays last because the container format is chosen by it.
    """
    return path.with_name(f"{path.stem}.partial{path.suffix}")


class FileSink:
    """A video file written under `partial_path(path)` and renamed to `path` only when complete."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        suffix = path.suffix.lower()
        if suffix not in FILE_CODECS:
            raise SharpCamError(f"cannot write video {path}: use a name ending in {', '.join(FILE_CODECS)}")
        if not path.parent.is_dir():
            raise SharpCamError(f"folder {path.parent} does not exist: create it or write the output elsewhere")
        if width % 2 or height % 2:
            # OpenCV's FFmpeg writer rounds odd sizes down, which would silently crop the video.
            raise SharpCamError(
                f"cannot write a {width}x{height} video: video files need an even width and height; "
                f"crop the input to {width - width % 2}x{height - height % 2} first, or enhance the frames as images"
            )
        self.path = path
        self.partial = partial_path(path)
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.label = str(path)
        self._writer = cv2.VideoWriter(
            str(self.partial), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*FILE_CODECS[suffix]), float(fps), (width, height)
        )
        if not self._writer.isOpened():
            self._writer.release()
            self.partial.unlink(missing_ok=True)
            raise SharpCamError(f"cannot open {path} for writing ({FILE_CODECS[suffix]} codec): check the folder is writable")

    def send(self, bgr_u8: np.ndarray) -> None:
        self._writer.write(bgr_u8)
        self.frames += 1

    def close(self, complete: bool = True) -> None:
        """Finishes the file: renamed into place when `complete` and non-empty, else removed."""
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if complete and self.frames > 0 and self.partial.exists():
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)

    def __enter__(self) -> "FileSink":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(complete=exc_type is None)


def default_output_device() -> str:
    """The loopback labelled "SharpCam", else the first loopback; SharpCamError if there is none."""
    from vcam.devices import find_output_device

    device = find_output_device(SHARPCAM_LABEL)
    if device is None:
        raise SharpCamError(f"no v4l2loopback virtual camera found: load it with `{MODPROBE_COMMAND}` (see `sharpcam doctor`)")
    return str(device.path)


# VIDIOC_S_PARM = _IOWR('V', 22, struct v4l2_streamparm): a 4-byte type + a 200-byte union; for the
# output type the union starts with capability, outputmode, then timeperframe {numerator, denominator}.
_VIDIOC_S_PARM = 0xC0CC5616
_V4L2_BUF_TYPE_VIDEO_OUTPUT = 2


def set_loopback_frame_rate(device: str, fps: float) -> None:
    """Set the frame rate v4l2loopback reports to apps (VIDIOC_G_PARM); pyvirtualcam leaves the
    driver's default (30 fps). Best effort: a driver that refuses keeps its default.
    (Added by the e2e helper: the guest showed 30 fps on the device while publishing at 10.)"""
    import fcntl
    import struct
    from fractions import Fraction

    rate = Fraction(fps).limit_denominator(1001)
    buf = bytearray(204)
    struct.pack_into("=I", buf, 0, _V4L2_BUF_TYPE_VIDEO_OUTPUT)
    struct.pack_into("=II", buf, 12, rate.denominator, rate.numerator)  # time per frame = 1 / fps
    try:
        fd = os.open(device, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return
    try:
        fcntl.ioctl(fd, _VIDIOC_S_PARM, buf)
    except OSError:
        pass
    finally:
        os.close(fd)


class VirtualCameraSink:
    """A v4l2loopback device written through pyvirtualcam (BGR frames, fixed size and rate)."""

    def __init__(self, device: str, width: int, height: int, fps: float) -> None:
        import pyvirtualcam

        if not Path(device).exists():
            raise SharpCamError(f"virtual camera {device} does not exist: load v4l2loopback with `{MODPROBE_COMMAND}`")
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.label = device
        try:
            self._cam = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device, backend="v4l2loopback"
            )
        except Exception as exc:  # pyvirtualcam raises RuntimeError/ValueError with the driver's text
            text = " ".join(str(exc).split())[:200]
            if "S_FMT" in text or "Errno 22" in text or "Invalid argument" in text:
                fix = "an app opened the virtual camera before SharpCam set its format: close it, start sharpcam first (`sharpcam doctor` names it)"
            elif "busy" in text.lower() or "Errno 16" in text:
                fix = "another program is writing to it: stop that program or pick another --output-device"
            elif "not a v4l2loopback" in text.lower() or "not a loopback" in text.lower():
                fix = "pick a v4l2loopback device (`sharpcam devices`) for --output-device"
            else:
                fix = "check the device with `sharpcam doctor`"
            raise SharpCamError(f"cannot open virtual camera {device} ({text}): {fix}") from None
        set_loopback_frame_rate(device, fps)

    def send(self, bgr_u8: np.ndarray) -> None:
        self._cam.send(bgr_u8)
        self.frames += 1

    def close(self, complete: bool = True) -> None:
        if self._cam is not None:
            self._cam.close()
            self._cam = None

    def __enter__(self) -> "VirtualCameraSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Sink = NullSink | FileSink | VirtualCameraSink


def open_sink(output: str, output_device: str | None, width: int, height: int, fps: float) -> Sink:
    """The sink `--output` names, opened at width x height and `fps`."""
    if output == OUTPUT_NULL:
        return NullSink(width, height, fps)
    if output == OUTPUT_CAMERA:
        return VirtualCameraSink(output_device or default_output_device(), width, height, fps)
    return FileSink(Path(output).expanduser(), width, height, fps)
