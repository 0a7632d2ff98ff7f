"""vcam.sources: video files, image sequences, bad devices, in-memory clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vcam_support import panned_frames, read_all_frames, write_clip
from vcam.config import SharpCamError
from vcam.jpeg import TurboJpegI420
from vcam.sources import (
    ImageSequenceSource,
    MemoryClipSource,
    MjpegClipSource,
    MjpegDecoder,
    SourceLost,
    VideoFileSource,
    is_camera_spec,
    load_clip_frames,
    open_source,
    sequence_paths,
    chart_frames,
)


def _drain(source) -> list[np.ndarray]:
    buf = np.empty((source.info.height, source.info.width, 3), np.uint8)
    frames = []
    while True:
        try:
            frames.append(source.read_into(buf).copy())
        except SourceLost:
            return frames


def test_video_file_source_reads_every_frame(clip_mkv: Path) -> None:
    with open_source(str(clip_mkv), 1280, 720, 30, "MJPG", realtime=False, loop=False) as source:
        assert isinstance(source, VideoFileSource)
        assert (source.info.width, source.info.height) == (160, 90) and not source.info.live
        frames = _drain(source)
    expected = read_all_frames(clip_mkv)
    assert len(frames) == len(expected) == 12
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))


def test_loop_restarts_the_file(clip_mkv: Path) -> None:
    source = VideoFileSource(clip_mkv, loop=True)
    buf = np.empty((90, 160, 3), np.uint8)
    first = source.read_into(buf).copy()
    for _ in range(11):
        source.read_into(buf)
    assert np.array_equal(source.read_into(buf), first)
    source.close()


def test_image_sequences_gray_and_bgra(tmp_path: Path) -> None:
    frames = panned_frames(64, 36, 3)
    cv2.imwrite(str(tmp_path / "f_0001.png"), frames[0])
    cv2.imwrite(str(tmp_path / "f_0002.png"), cv2.cvtColor(frames[1], cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(tmp_path / "f_0003.png"), cv2.cvtColor(frames[2], cv2.COLOR_BGR2BGRA))
    for spec in (str(tmp_path), str(tmp_path / "f_*.png"), str(tmp_path / "f_%04d.png")):
        assert len(sequence_paths(spec) or []) == 3
        source = open_source(spec, 1280, 720, 30, "", realtime=False, loop=False)
        assert isinstance(source, ImageSequenceSource)
        got = _drain(source)
        assert len(got) == 3 and all(g.shape == (36, 64, 3) for g in got)
        assert np.array_equal(got[0], frames[0]) and np.array_equal(got[2], frames[2])
        assert np.array_equal(got[1][:, :, 0], got[1][:, :, 2])  # grey became 3 equal channels


@pytest.mark.parametrize("spec", ["/dev/video99", "/dev/v4l/by-id/usb-no-such-camera-video-index0"])
def test_unknown_camera(spec: str) -> None:
    assert is_camera_spec(spec)
    with pytest.raises(SharpCamError) as info:
        open_source(spec, 640, 480, 30, "MJPG", realtime=True, loop=False)
    assert "sharpcam devices" in str(info.value) and "\n" not in str(info.value)


def test_unknown_path_and_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(SharpCamError, match="nothing.mp4 does not exist: pass an existing video"):  # as `enhance` says
        open_source(str(tmp_path / "nothing.mp4"), 640, 480, 30, "", realtime=False, loop=False)
    with pytest.raises(SharpCamError, match="unknown device 'webcam'"):
        open_source("webcam", 640, 480, 30, "", realtime=False, loop=False)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    with pytest.raises(SharpCamError, match="cannot read .* as a video"):
        open_source(str(text), 640, 480, 30, "", realtime=False, loop=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SharpCamError, match="no images found"):
        open_source(str(empty), 640, 480, 30, "", realtime=False, loop=False)
    bad_png = tmp_path / "broken.png"
    bad_png.write_bytes(b"\x89PNG broken")
    with pytest.raises(SharpCamError, match="as an image"):
        open_source(str(bad_png), 640, 480, 30, "", realtime=False, loop=False)


def test_memory_clip_and_chart(clip_mkv: Path) -> None:
    frames = load_clip_frames(clip_mkv, 80, 45, limit=5)
    assert len(frames) == 5 and frames[0].shape == (45, 80, 3)
    source = MemoryClipSource(frames, 30.0, "clip")
    buf = np.empty((45, 80, 3), np.uint8)
    seen = [source.read_into(buf).copy() for _ in range(6)]
    assert np.array_equal(seen[5], frames[0])  # cycles
    chart = chart_frames(160, 90, 4)
    assert len(chart) == 4 and chart[0].shape == (90, 160, 3)
    assert not np.array_equal(chart[0], chart[1]) and chart[0].std() > 20


def test_a_percent_sign_in_a_path_is_a_plain_character(tmp_path: Path) -> None:
    clip = tmp_path / "sharp 50%.mkv"
    write_clip(clip, panned_frames(64, 36, 4))
    assert sequence_paths(str(clip)) is None  # not a printf pattern
    source = open_source(str(clip), 1280, 720, 30, "", realtime=False, loop=False)
    assert len(_drain(source)) == 4
    assert sequence_paths(str(tmp_path / "100%_done_%03d.png")) == []  # a real %03d still counts


@pytest.mark.skipif(TurboJpegI420.load() is None, reason="needs libturbojpeg (apt install libturbojpeg0; .ci/run installs it)")
def test_an_mjpg_camera_decodes_straight_to_i420_or_through_opencv() -> None:
    frames = panned_frames(160, 96, 3)
    yuv = MjpegClipSource(frames, 30.0, "clip")
    bgr = MjpegClipSource(frames, 30.0, "clip", yuv=False)
    assert yuv.info.pixel == "i420" and yuv.info.frame_shape == (144, 160) and "libturbojpeg" in yuv.info.fourcc
    assert bgr.info.pixel == "bgr" and bgr.info.frame_shape == (96, 160, 3)
    out = np.empty(yuv.info.frame_shape, np.uint8)
    assert yuv.read_into(out) is out
    ref = cv2.cvtColor(bgr.read_into(np.empty(bgr.info.frame_shape, np.uint8)), cv2.COLOR_BGR2YUV_I420)
    assert np.abs(out[:96].astype(int) - ref[:96]).mean() < 0.3  # the same picture, one colour conversion fewer
    assert np.abs(out[:96].astype(int) - cv2.cvtColor(frames[0], cv2.COLOR_BGR2YUV_I420)[:96]).mean() < 3  # ~ the frame
    grown = yuv.read_into(np.empty((48, 64), np.uint8))  # another size: a new buffer, as for BGR
    assert grown.shape == (144, 160)
    with pytest.raises(SourceLost, match="bad MJPG frame"):
        MjpegDecoder(yuv=True).decode_into(np.frombuffer(b"no jpeg here", np.uint8), out)


class FakeMjpgCapture:
    """cv2.VideoCapture of an MJPG camera as OpenCV's V4L2 backend behaves: with CAP_PROP_CONVERT_RGB 0 it
    hands over each JPEG as a 1 x N uint8 row, else the decoded BGR frame. `honours_raw` False: a backend
    that ignores the property; `garbled`: that many bad JPEGs first."""

    def __init__(self, frames: list[np.ndarray], honours_raw: bool = True, garbled: int = 0) -> None:
        ok, self.jpegs = True, [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422])[1] for f in frames]
        self.frames, self.honours_raw, self.garbled = frames, honours_raw, garbled
        self.convert_rgb, self.i, self.released = 1.0, 0, False

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_CONVERT_RGB:
            self.convert_rgb = value if self.honours_raw else 1.0
        return True

    def get(self, prop: int) -> float:
        return float(cv2.VideoWriter_fourcc(*"MJPG")) if prop == cv2.CAP_PROP_FOURCC else 30.0

    def read(self, out=None):
        k, self.i = self.i % len(self.frames), self.i + 1
        if self.convert_rgb:
            return True, self.frames[k].copy()
        if self.garbled > 0:
            self.garbled -= 1
            return True, np.frombuffer(b"\xff\xd8garbled", np.uint8)[None]
        return True, self.jpegs[k].reshape(1, -1).copy()

    def release(self) -> None:
        self.released = True


@pytest.mark.skipif(TurboJpegI420.load() is None, reason="needs libturbojpeg (apt install libturbojpeg0; .ci/run installs it)")
@pytest.mark.parametrize(("honours_raw", "garbled", "pixel"), [(True, 0, "i420"), (True, 2, "i420"), (False, 0, "bgr"), (True, 9, "bgr")])
def test_a_camera_gives_raw_mjpg_or_falls_back_to_opencv(monkeypatch, honours_raw: bool, garbled: int, pixel: str) -> None:
    from vcam import sources

    frames = panned_frames(160, 96, 3)
    fake = FakeMjpgCapture(frames, honours_raw, garbled)
    monkeypatch.setattr(sources.cv2, "VideoCapture", lambda *_a: fake)
    with sources.CameraSource("0", 160, 96, 30.0, "MJPG") as cam:
        assert cam.info.pixel == pixel and cam.info.frame_shape == ((144, 160) if pixel == "i420" else (96, 160, 3))
        out = np.empty(cam.info.frame_shape, np.uint8)
        seen = [cam.read_into(out).copy() for _ in range(3)]
    assert fake.released
    y_of = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)[:96].astype(int) for f in frames]
    if pixel == "i420":  # the camera's frames, through one colour conversion fewer
        assert all(min(np.abs(s[:96] - y).mean() for y in y_of) < 3 for s in seen)
        with sources.CameraSource("0", 160, 96, 30.0, "MJPG") as cam:
            cam.read_into(out)  # the first frame, read at open
            fake.garbled = 99  # only garbage from now on: lost after a few skipped frames, not at the first
            with pytest.raises(sources.SourceLost, match="bad MJPG frame"):
                cam.read_into(out)
    else:
        assert fake.convert_rgb == 1.0 and all(s.shape == (96, 160, 3) for s in seen)
