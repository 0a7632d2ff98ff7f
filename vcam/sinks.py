"""Where finished frames go: a v4l2loopback virtual camera, a video file, or nowhere.

Each sink is a context manager opened at a fixed frame size and rate; `send(frame_u8)` takes a
uint8 frame of exactly that size, I420 (H * 3/2, W: the luma path's, passed on as it is) or BGR
(H, W, 3: converted to I420 once, into a preallocated buffer, where the device wants I420). The publish stage does the pacing (constant rate,
re-sends, placeholders); sinks only write.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from vcam.config import OUTPUT_CAMERA, OUTPUT_NULL, SharpCamError
from vcam.devices import MODPROBE_COMMAND, SHARPCAM_LABEL
from vcam.transforms import i420_to_bgr_u8

# Output container (by suffix) -> OpenCV codec. .mkv is lossless (FFV1) for exact offline results.
# .mp4/.m4v/.mov are H.264 through PyAV when it is installed (`pip install 'sharpcam[video]'`): OpenCV's
# own mp4v path converts to YUV with a bias (measured: flat grey 128 comes back as 124-125), so
# without PyAV those containers get lossless FFV1 too.
FILE_CODECS = {".mp4": "FFV1", ".m4v": "FFV1", ".mov": "FFV1", ".avi": "MJPG", ".mkv": "FFV1"}
H264_SUFFIXES = frozenset({".mp4", ".m4v", ".mov"})
H264_CRF = "16"  # visually lossless: the file shows what SharpCam published, not the codec
MIN_FREE_BYTES = 4 << 20  # below this the disk counts as full: stop before the file is cut short
FREE_CHECK_EVERY = 8  # frames between two free-space checks (a statvfs each)


def have_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def count_frames(path: Path, expected: int = 0) -> int:
    """Frames a video file really holds (what a player will see). When the container says `expected`
    and its last frame decodes, that is taken (no full decode of a long recording at close);
    otherwise every frame is decoded and counted."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            return 0
        if expected > 0 and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == expected:
            cap.set(cv2.CAP_PROP_POS_FRAMES, expected - 1)
            if cap.grab() and not cap.grab():  # the last frame is there, and nothing after it
                return expected
            cap.release()
            cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        n = 0
        while cap.grab():
            n += 1
        return n
    finally:
        cap.release()


class _H264Writer:
    """H.264 (libx264 through PyAV) from I420 or BGR frames. The BT.601 limited-range conversion is
    OpenCV's (rounded; done once upstream for I420 frames), handed over as yuv420p so that FFmpeg's
    swscale, which truncates, never touches it."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        from fractions import Fraction

        import av

        self._av = av
        self._container = av.open(str(path), mode="w")
        stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": H264_CRF, "preset": "veryfast"}
        stream.codec_context.color_range = 1  # MPEG (limited, 16..235)
        stream.codec_context.colorspace = 6  # SMPTE 170M: BT.601, what cvtColor's YUV_I420 uses
        self._stream = stream
        self._i420 = np.empty((height * 3 // 2, width), np.uint8)

    def write(self, frame_u8: np.ndarray) -> None:
        i420 = frame_u8 if frame_u8.ndim == 2 else bgr_u8_to_i420_u8(frame_u8, self._i420)
        frame = self._av.VideoFrame.from_ndarray(i420, format="yuv420p")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def release(self) -> None:
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()


class _OpenCvWriter:
    def __init__(self, path: Path, width: int, height: int, fps: float, fourcc: str) -> None:
        self._writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), float(fps), (width, height))
        if not self._writer.isOpened():
            self._writer.release()
            raise OSError(f"{fourcc} encoder did not open")
        self._bgr = np.empty((height, width, 3), np.uint8)

    def write(self, frame_u8: np.ndarray) -> None:
        self._writer.write(frame_u8 if frame_u8.ndim == 3 else i420_to_bgr_u8(frame_u8, self._bgr))

    def release(self) -> None:
        self._writer.release()


def bgr_u8_to_i420_u8(bgr_u8: np.ndarray, i420_u8: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> I420 uint8 (H * 3/2, W) in `i420_u8`: BT.601 limited range, rounded (OpenCV),
    the format the virtual camera is fed and apps decode."""
    cv2.cvtColor(bgr_u8, cv2.COLOR_BGR2YUV_I420, dst=i420_u8)
    return i420_u8


class NullSink:
    """Discards frames (benchmarks), after the same conversion to the device format that the virtual
    camera sink does (none for a frame that is I420 already), so that `sharpcam bench` counts it;
    counts them."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.label = "null"
        # I420 needs even sides; an odd-sized source is published as BGR (the camera sink does the same)
        self.i420_u8 = np.empty((height * 3 // 2, width), np.uint8) if width % 2 == 0 and height % 2 == 0 else None

    def send(self, frame_u8: np.ndarray) -> None:
        """Takes I420 (H * 3/2, W) or BGR (H, W, 3) uint8."""
        if self.i420_u8 is not None and frame_u8.ndim == 3:
            bgr_u8_to_i420_u8(frame_u8, self.i420_u8)
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
    """A video file written under `partial_path(path)` and renamed to `path` only when complete.

    Encoders do not all report write errors (OpenCV's never does), so nothing is taken on trust: the
    free space is checked every few frames, and at close the finished file is decoded back and must
    hold every frame sent. Any failure raises a one-line SharpCamError naming the path and the cause,
    and removes the partial file: a cut-short video is never left behind as if complete."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        suffix = path.suffix.lower()
        if suffix not in FILE_CODECS:
            raise SharpCamError(f"cannot write video {path}: use a name ending in {', '.join(FILE_CODECS)}")
        if not path.parent.is_dir():
            raise SharpCamError(f"folder {path.parent} does not exist: create it or write the output elsewhere")
        if not os.access(path.parent, os.W_OK):  # also false for root on a read-only mount
            raise SharpCamError(f"folder {path.parent} is not writable (read-only?): write the output elsewhere")
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
        self.codec = "H.264" if suffix in H264_SUFFIXES and have_pyav() else FILE_CODECS[suffix]
        self._writer: _H264Writer | _OpenCvWriter | None = None
        try:
            if self.codec == "H.264":
                self._writer = _H264Writer(self.partial, width, height, fps)
            else:
                self._writer = _OpenCvWriter(self.partial, width, height, fps, self.codec)
        except Exception as exc:  # PyAV and OpenCV raise their own types
            self._discard()
            raise SharpCamError(f"cannot open {path} for writing ({self.codec}: {_reason(exc)}): check the folder is writable") from None

    def send(self, frame_u8: np.ndarray) -> None:
        """Takes I420 (H * 3/2, W) or BGR (H, W, 3) uint8."""
        if self._writer is None:
            raise SharpCamError(f"{self.path} is already closed")
        if self.frames % FREE_CHECK_EVERY == 0 and free_bytes(self.partial.parent) < MIN_FREE_BYTES:
            self._fail(f"disk full ({free_bytes(self.partial.parent) >> 10} KiB free in {self.partial.parent})")
        try:
            self._writer.write(frame_u8)
        except Exception as exc:
            self._fail(_reason(exc))
        self.frames += 1

    def close(self, complete: bool = True) -> None:
        """Finishes the file: verified and renamed into place when `complete` and non-empty, else
        removed. Raises SharpCamError (partial removed) when the file does not hold every frame."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.release()
        except Exception as exc:
            if complete:
                self._fail(_reason(exc))
        if not (complete and self.frames > 0):
            self._discard()
            return
        held = count_frames(self.partial, self.frames)
        if held != self.frames:
            full = free_bytes(self.partial.parent) < MIN_FREE_BYTES
            self._fail(f"{'disk full: ' if full else ''}the file holds {held} of {self.frames} frames")
        try:
            os.replace(self.partial, self.path)
        except OSError as exc:
            self._fail(exc.strerror or str(exc))

    def _fail(self, cause: str) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.release()
            except Exception:
                pass  # already failing: the cause that matters is `cause`
        self._discard()
        raise SharpCamError(f"writing {self.path} failed ({cause}); nothing was kept: free some space or write elsewhere")

    def _discard(self) -> None:
        try:
            self.partial.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. a read-only folder, where nothing was written either

    def __enter__(self) -> "FileSink":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(complete=exc_type is None)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return text or type(exc).__name__


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
    """A v4l2loopback device written through pyvirtualcam at a fixed size and rate, as I420 (the format
    browsers and call apps take). Frames of the luma path come in as I420 and go straight out; BGR
    frames (RGB models, placeholders) are converted here by OpenCV into one preallocated buffer, a
    conversion `sharpcam bench` measures (NullSink does the same)."""

    def __init__(self, device: str, width: int, height: int, fps: float) -> None:
        import pyvirtualcam

        if not Path(device).exists():
            raise SharpCamError(f"virtual camera {device} does not exist: load v4l2loopback with `{MODPROBE_COMMAND}`")
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.label = device
        even = width % 2 == 0 and height % 2 == 0  # I420 needs even sides; an odd size goes out as BGR
        self._i420_u8 = np.empty((height * 3 // 2, width), np.uint8) if even else None
        fmt = pyvirtualcam.PixelFormat.I420 if even else pyvirtualcam.PixelFormat.BGR
        try:
            self._cam = pyvirtualcam.Camera(
                width, height, fps, fmt=fmt, device=device, backend="v4l2loopback"
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

    def send(self, frame_u8: np.ndarray) -> None:
        """Takes I420 (H * 3/2, W) or BGR (H, W, 3) uint8."""
        if self._i420_u8 is not None and frame_u8.ndim == 3:
            frame_u8 = bgr_u8_to_i420_u8(frame_u8, self._i420_u8)
        self._cam.send(frame_u8)
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
