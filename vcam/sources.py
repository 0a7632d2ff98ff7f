"""Frame sources: cameras (index, /dev/videoN, /dev/v4l/by-id/...), video files, image sequences.

Every source yields BGR uint8 (H, W, 3) frames through `read_into(out)`, or I420 (H * 3/2, W) where its
`info.pixel` says so (an MJPG camera decoded straight to YUV, vcam/jpeg.py), and raises SourceLost when
the device goes away or the file ends (the capture stage then reopens it). `open_source` turns a
`--device` string into the right source; opening failures are SharpCamError with the fix.
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from vcam.config import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SharpCamError
from vcam.jpeg import JpegError, TurboJpegI420, decode_bgr_into
from vcam.transforms import to_bgr_u8


READ_TIMEOUT_MS = 1000
BAD_MJPG_FRAMES = 3  # undecodable MJPG frames in a row skipped before the camera counts as lost
# OpenCV's V4L2 backend ignores CAP_PROP_READ_TIMEOUT_MSEC: it waits OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT
# seconds (default 10) for each frame, reading the variable once at the first V4L2 read. Seen in the
# e2e guest (OpenCV 4.10): a silent camera was only declared lost after ~10 s. (e2e helper's fix)
os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", str(max(1, READ_TIMEOUT_MS // 1000)))


class SourceLost(Exception):
    """The source stopped giving frames (camera unplugged, end of file)."""


@dataclass(frozen=True)
class SourceInfo:
    """What the source really delivers: size in pixels, nominal rate, pixel format and a label."""

    width: int
    height: int
    fps: float
    fourcc: str
    label: str
    live: bool  # a camera (frames arrive at their own pace) rather than a file
    # what read_into fills: "bgr" (H, W, 3), or "i420" (H * 3/2, W) from an MJPG camera decoded
    # straight to YUV (vcam/jpeg.py), which spares the luma path two colour conversions
    pixel: str = "bgr"

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.height * 3 // 2, self.width) if self.pixel == "i420" else (self.height, self.width, 3)


class Source(Protocol):
    """What the capture stage needs from a source."""

    info: SourceInfo

    def wait_next(self) -> None:
        """Sleeps until the next frame is due (files paced like a camera); cameras return at once."""
        ...

    def read_into(self, out: np.ndarray) -> np.ndarray:
        """Next frame as BGR uint8 (H, W, 3), or I420 (H * 3/2, W) where info.pixel says so; written
        into `out` when shapes match, else a new array."""
        ...

    def close(self) -> None: ...


def _deliver(frame: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`frame` as BGR uint8 in `out` when the sizes match, else in a new array (size changed)."""
    if frame is out:
        return out
    target = out if frame.shape[:2] == out.shape[:2] else np.empty((*frame.shape[:2], 3), np.uint8)
    return to_bgr_u8(frame, target)


class Pacer:
    """Sleeps so that successive frames are `1/fps` apart (files played like a camera)."""

    def __init__(self, fps: float, enabled: bool) -> None:
        self.period = 1.0 / fps if fps > 0 else 0.0
        self.enabled = enabled
        self._next_due = 0.0

    def wait(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._next_due > now:
            time.sleep(self._next_due - now)
        self._next_due = max(now, self._next_due) + self.period


def _fourcc_text(code: float) -> str:
    value = int(code)
    text = "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else "?"


def resolve_camera(spec: str) -> int | str:
    """'0' -> 0; '/dev/video2' -> '/dev/video2'; '/dev/v4l/by-id/usb-...' -> the /dev/videoN it links to."""
    if spec.isdigit():
        return int(spec)
    path = Path(spec)
    if not path.exists():
        raise SharpCamError(f"camera {spec} does not exist: run `sharpcam devices` to list cameras, then pass --device")
    real = os.path.realpath(path)
    if not os.access(real, os.R_OK | os.W_OK):
        raise SharpCamError(f"no permission to open {real}: add yourself to the video group (sudo usermod -aG video $USER) and log in again")
    return real


class MjpegDecoder:
    """JPEG bytes (1-D or 1 x N uint8) -> the frame a source hands on: I420 through libturbojpeg where
    `yuv` and the library is installed (vcam/jpeg.py), else BGR through OpenCV. One per thread."""

    def __init__(self, yuv: bool) -> None:
        self.turbo = TurboJpegI420.load() if yuv else None

    def close(self) -> None:
        if self.turbo is not None:
            self.turbo.close()

    def pixel_of(self, jpeg_u8: np.ndarray) -> str:
        """"i420" when this JPEG decodes straight to I420 here, else "bgr"."""
        if self.turbo is None:
            return "bgr"
        try:
            self.turbo.i420_shape(jpeg_u8)
        except JpegError:
            return "bgr"
        return "i420"

    def decode_into(self, jpeg_u8: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Into `out` (I420 or BGR, its layout decides) when the size matches, else into a new array."""
        try:
            if out.ndim == 2:
                shape = self.turbo.i420_shape(jpeg_u8)  # type: ignore[union-attr]
                return self.turbo.decode_into(jpeg_u8, out if out.shape == shape else np.empty(shape, np.uint8))  # type: ignore[union-attr]
            return decode_bgr_into(jpeg_u8, out)
        except JpegError as exc:
            raise SourceLost(f"bad MJPG frame: {exc}") from None


class CameraSource:
    """A V4L2 camera through OpenCV, asking for size, rate and fourcc, with a one-frame buffer. An MJPG
    stream is taken raw and decoded straight to I420 where libturbojpeg is installed (`mjpeg_yuv`)."""

    def __init__(self, spec: str, width: int, height: int, fps: float, fourcc: str, mjpeg_yuv: bool = True) -> None:
        target = resolve_camera(spec)
        api = cv2.CAP_V4L2 if os.name == "posix" else cv2.CAP_ANY
        self._cap = cv2.VideoCapture(target, api)
        if not self._cap.isOpened():
            self._cap.release()
            raise SharpCamError(
                f"cannot open camera {spec}: check it is plugged in and not used by another app (`sharpcam devices`, `sharpcam doctor`)"
            )
        # Format first: many UVC cameras only offer high resolutions at full rate as MJPG.
        if fourcc:
            self._cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc))
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        # One buffered frame: a queue of stale frames is pure latency.
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        # A camera silent for a second is treated as lost (OpenCV's V4L2 default waits 10 s).
        if hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
            self._cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS)
        negotiated = _fourcc_text(self._cap.get(cv2.CAP_PROP_FOURCC))
        self._mjpeg: MjpegDecoder | None = None
        if negotiated == "MJPG" and mjpeg_yuv:
            decoder = MjpegDecoder(yuv=True)
            # raw buffers: OpenCV then hands over the JPEG bytes instead of decoding them to BGR
            if decoder.turbo is not None and self._cap.set(cv2.CAP_PROP_CONVERT_RGB, 0):
                self._mjpeg = decoder
        ok, frame = self._cap.read()
        if self._mjpeg is not None:
            frame = self._first_i420(ok, frame)
            if frame is None:  # no raw JPEG this path can use (backend, odd size, garbled frames): OpenCV decodes
                self._mjpeg.close()
                self._mjpeg = None
                if not self._cap.set(cv2.CAP_PROP_CONVERT_RGB, 1):
                    self._cap.release()
                    raise SharpCamError(f"camera {spec} gives MJPG that OpenCV will not decode back to BGR: pass --no-mjpeg-yuv")
                ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise SharpCamError(
                f"camera {spec} opened but gives no frames: it may be busy in another app or a virtual output; "
                "close the other app or pick another --device"
            )
        self._first: np.ndarray | None = frame
        pixel = "i420" if self._mjpeg is not None else "bgr"
        h, w = (frame.shape[0] * 2 // 3, frame.shape[1]) if pixel == "i420" else frame.shape[:2]
        self.info = SourceInfo(
            width=w,
            height=h,
            fps=float(self._cap.get(cv2.CAP_PROP_FPS) or fps),
            fourcc=negotiated + (" -> I420 (libturbojpeg)" if pixel == "i420" else ""),
            label=f"camera {spec}",
            live=True,
            pixel=pixel,
        )

    def _first_i420(self, ok: bool, raw: np.ndarray | None) -> np.ndarray | None:
        """The first frame as I420 from the raw MJPG stream, trying a few frames (UVC cameras often send
        a garbled first one); None when the backend hands over no JPEG this decoder can use."""
        assert self._mjpeg is not None and self._mjpeg.turbo is not None
        for attempt in range(BAD_MJPG_FRAMES + 1):
            if ok and raw is not None and raw.ndim in (1, 2) and self._mjpeg.pixel_of(raw) == "i420":  # 1 x N bytes
                try:
                    return self._mjpeg.decode_into(raw, np.empty(self._mjpeg.turbo.i420_shape(raw), np.uint8))
                except SourceLost:
                    pass
            elif ok and raw is not None and raw.ndim == 3:  # decoded to BGR anyway: the property had no effect
                return None
            if attempt < BAD_MJPG_FRAMES:
                ok, raw = self._cap.read()
        return None

    def wait_next(self) -> None:
        pass  # the driver paces a camera: read_into blocks until the next frame

    def read_into(self, out: np.ndarray) -> np.ndarray:
        if self._first is not None:
            frame, self._first = self._first, None
            if self._mjpeg is not None:
                if frame.shape == out.shape:
                    np.copyto(out, frame)
                    return out
                return frame
            return _deliver(frame, out)
        if self._mjpeg is not None:
            for attempt in range(BAD_MJPG_FRAMES + 1):  # a frame garbled on the bus is skipped, not a lost camera
                # OpenCV copies each raw buffer into a new array (its size varies with the JPEG): the one
                # allocation per frame on this path, and far smaller than the BGR frame it replaces
                ok, raw = self._cap.read()
                if not ok or raw is None:
                    raise SourceLost("camera read failed")
                try:
                    return self._mjpeg.decode_into(raw, out)
                except SourceLost:
                    if attempt == BAD_MJPG_FRAMES:
                        raise
        ok, frame = self._cap.read(out)
        if not ok or frame is None:
            raise SourceLost("camera read failed")
        return _deliver(frame, out)

    def close(self) -> None:
        self._cap.release()
        if self._mjpeg is not None:
            self._mjpeg.close()

    def __enter__(self) -> "CameraSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoFileSource:
    """A video file, optionally paced to its own frame rate (`realtime`) and looped."""

    def __init__(self, path: Path, realtime: bool = False, loop: bool = False) -> None:
        self.path = path
        self._cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        ok, frame = (self._cap.read() if self._cap.isOpened() else (False, None))
        if not ok or frame is None:
            self._cap.release()
            raise SharpCamError(f"cannot read {path} as a video: pass a playable video file (.mp4, .avi, .mkv) or an image")
        self._first: np.ndarray | None = frame
        h, w = frame.shape[:2]
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.info = SourceInfo(w, h, fps if 0 < fps < 1000 else 30.0, _fourcc_text(self._cap.get(cv2.CAP_PROP_FOURCC)), str(path), live=False)
        self.loop = loop
        self._pacer = Pacer(self.info.fps, realtime)

    def wait_next(self) -> None:
        self._pacer.wait()

    def read_into(self, out: np.ndarray) -> np.ndarray:
        if self._first is not None:
            frame, self._first = self._first, None
        else:
            ok, frame = self._cap.read(out)
            if not ok and self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read(out)
            if not ok or frame is None:
                raise SourceLost(f"end of {self.path}")
        return _deliver(frame, out)

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> "VideoFileSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_image(path: Path) -> np.ndarray:
    """An image file as decoded (grayscale, BGR or BGRA; uint8 or uint16). SharpCamError if unreadable."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if image is None:
        raise SharpCamError(f"cannot read {path} as an image: pass a .png, .jpg, .bmp or .tif file")
    return image


class ImageSequenceSource:
    """Images in name order: a folder, a glob ('frames/*.png') or a printf pattern ('f_%04d.png')."""

    def __init__(self, paths: list[Path], fps: float, realtime: bool = False, loop: bool = False, label: str = "") -> None:
        if not paths:
            raise SharpCamError(f"no images found in {label or 'the sequence'}: pass a folder or pattern with .png/.jpg files")
        self.paths = paths
        first = read_image(paths[0])
        h, w = first.shape[:2]
        self.frame_count = len(paths)
        self.info = SourceInfo(w, h, fps, "image", label or str(paths[0].parent), live=False)
        self.loop = loop
        self._index = 0
        self._pacer = Pacer(fps, realtime)

    def wait_next(self) -> None:
        self._pacer.wait()

    def read_into(self, out: np.ndarray) -> np.ndarray:
        if self._index >= len(self.paths):
            if not self.loop:
                raise SourceLost("end of image sequence")
            self._index = 0
        image = read_image(self.paths[self._index])
        self._index += 1
        return _deliver(image, out)

    def close(self) -> None:
        pass

    def __enter__(self) -> "ImageSequenceSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# One printf index such as %d or %04d; any other '%' in a path (e.g. "50%.mp4") is a plain character.
_PRINTF_INDEX = re.compile(r"%0?\d*d")


def sequence_paths(spec: str) -> list[Path] | None:
    """The image files named by a folder, glob or printf pattern; None if `spec` is none of those."""
    path = Path(spec)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if any(ch in spec for ch in "*?["):
        return sorted(Path(p) for p in glob.glob(spec) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
    if _PRINTF_INDEX.search(spec):
        found = []
        for index in range(0, 1_000_000):
            candidate = Path(_PRINTF_INDEX.sub(lambda m: m.group(0) % index, spec))
            if not candidate.is_file():
                if index == 0:
                    continue  # printf sequences may start at 0 or 1
                break
            found.append(candidate)
        return found
    return None


def is_camera_spec(spec: str) -> bool:
    """True for a device index or a /dev path (these are reopened after loss, files are not)."""
    return spec.isdigit() or spec.startswith("/dev/")


def open_source(spec: str, width: int, height: int, fps: float, fourcc: str, realtime: bool, loop: bool,
                mjpeg_yuv: bool = True) -> Source:
    """The source a `--device` string names. Files are paced to their rate when `realtime`."""
    if is_camera_spec(spec):
        return CameraSource(spec, width, height, fps, fourcc, mjpeg_yuv)
    paths = sequence_paths(spec)
    if paths is not None:
        return ImageSequenceSource(paths, fps, realtime=realtime, loop=loop, label=spec)
    path = Path(spec).expanduser()
    if not path.exists() and (path.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES or "/" in spec):
        # Named like a file: say what `sharpcam enhance` says about a missing input.
        raise SharpCamError(f"input {path} does not exist: pass an existing video file, image or image folder")
    if not path.exists():
        raise SharpCamError(
            f"unknown device {spec!r}: pass a camera index (0), /dev/videoN, /dev/v4l/by-id/..., a video file or an image folder "
            "(`sharpcam devices` lists cameras)"
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSequenceSource([path], fps, realtime=realtime, loop=loop, label=str(path))
    if path.suffix.lower() not in VIDEO_SUFFIXES and not path.is_file():
        raise SharpCamError(f"{path} is not a video file or image folder: pass a video (.mp4, .avi, .mkv) or images")
    return VideoFileSource(path, realtime=realtime, loop=loop)


class MemoryClipSource:
    """Cycles through frames held in memory (benchmarks): BGR uint8 (H, W, 3), all one size.

    No decoding cost, so `bench` measures the pipeline rather than the video decoder.
    """

    def __init__(self, frames: list[np.ndarray], fps: float, label: str, realtime: bool = False) -> None:
        if not frames:
            raise SharpCamError(f"{label} has no frames: pass a playable video")
        self.frames = frames
        h, w = frames[0].shape[:2]
        self.info = SourceInfo(w, h, fps, "BGR3", label, live=False)
        self._index = 0
        self._pacer = Pacer(fps, realtime)

    def wait_next(self) -> None:
        self._pacer.wait()

    def read_into(self, out: np.ndarray) -> np.ndarray:
        frame = self.frames[self._index % len(self.frames)]
        self._index += 1
        np.copyto(out, frame)
        return out

    def close(self) -> None:
        pass


class MjpegClipSource(MemoryClipSource):
    """An MJPG webcam played from memory (benchmarks): frames held as 4:2:2 JPEGs (what UVC cameras
    send), each decoded when read, exactly as `CameraSource` decodes a camera's MJPG (`yuv`: straight to
    I420 where libturbojpeg is installed, else OpenCV's BGR decode), so `bench --mjpeg` times the
    decode the daemon really does."""

    QUALITY = 85

    def __init__(self, frames: list[np.ndarray], fps: float, label: str, realtime: bool = False, yuv: bool = True) -> None:
        super().__init__(frames, fps, label, realtime)
        params = [cv2.IMWRITE_JPEG_QUALITY, self.QUALITY, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422]
        self.jpegs = [cv2.imencode(".jpg", f, params)[1] for f in frames]
        self._decoder = MjpegDecoder(yuv)
        pixel = self._decoder.pixel_of(self.jpegs[0])
        how = "I420 (libturbojpeg)" if pixel == "i420" else "BGR (OpenCV)"
        self.info = replace(self.info, fourcc=f"MJPG -> {how}", label=f"{label} as MJPG", pixel=pixel)

    def read_into(self, out: np.ndarray) -> np.ndarray:
        jpeg = self.jpegs[self._index % len(self.jpegs)]
        self._index += 1
        return self._decoder.decode_into(jpeg, out)

    def close(self) -> None:
        self._decoder.close()


def chart_frames(width: int, height: int, count: int = 30) -> list[np.ndarray]:
    """`count` BGR uint8 frames panning across a synthetic test chart (gradients, rings, bars, text).

    Deterministic; used by `bench` when no real clip is given.
    """
    chart_w, chart_h = width + count * 4, height
    yy, xx = np.mgrid[0:chart_h, 0:chart_w].astype(np.float32)
    chart = np.empty((chart_h, chart_w, 3), np.uint8)
    chart[..., 0] = (255 * xx / chart_w).astype(np.uint8)
    chart[..., 1] = (255 * yy / chart_h).astype(np.uint8)
    radius = np.hypot(xx - chart_w / 2, yy - chart_h / 2)
    chart[..., 2] = (127.5 + 127.5 * np.cos(radius * radius / (8.0 * max(width, 1)))).astype(np.uint8)
    step = max(4, width // 64)
    for x in range(0, chart_w, 2 * step):
        cv2.rectangle(chart, (x, chart_h // 3), (x + step - 1, chart_h // 2), (20, 20, 20), -1)
    scale = max(0.4, width / 640)
    for row in range(3):
        cv2.putText(chart, "SharpCam bench 0123456789", (step, int(chart_h * (0.65 + 0.1 * row))),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (240, 240, 240), max(1, int(scale * 1.5)), cv2.LINE_AA)
    return [np.ascontiguousarray(chart[:, i * 4 : i * 4 + width]) for i in range(count)]


def load_clip_frames(path: Path, width: int, height: int, limit: int = 120) -> list[np.ndarray]:
    """Up to `limit` frames of a video, resized to width x height (BGR uint8)."""
    source = VideoFileSource(path)
    frames: list[np.ndarray] = []
    try:
        buffer = np.empty((source.info.height, source.info.width, 3), np.uint8)
        while len(frames) < limit:
            try:
                frame = source.read_into(buffer)
            except SourceLost:
                break
            frames.append(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) if frame.shape[:2] != (height, width) else frame.copy())
    finally:
        source.close()
    return frames
