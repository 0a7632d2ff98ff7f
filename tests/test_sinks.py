"""vcam.sinks: file output via .partial + rename, null sink, virtual camera errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcam_support import panned_frames, read_all_frames
from vcam import sinks
from vcam.config import SharpCamError
from vcam.sinks import FileSink, NullSink, open_sink, partial_path


def test_file_sink_renames_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "out.mkv"
    frames = panned_frames(160, 90, 5)
    with open_sink(str(out), None, 160, 90, 15.0) as sink:
        assert isinstance(sink, FileSink)
        for frame in frames:
            sink.send(frame)
        assert partial_path(out).exists() and not out.exists()  # not complete yet
    assert out.exists() and not partial_path(out).exists()
    written = read_all_frames(out)
    assert len(written) == 5 and all((a == b).all() for a, b in zip(written, frames, strict=True))  # FFV1 is lossless


def test_file_sink_leaves_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with FileSink(out, 160, 90, 15.0) as sink:
            sink.send(panned_frames(160, 90, 1)[0])
            raise RuntimeError("boom")
    assert not out.exists() and not partial_path(out).exists()


def test_file_sink_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(SharpCamError, match="does not exist"):
        FileSink(tmp_path / "no" / "dir.mp4", 160, 90, 15.0)
    with pytest.raises(SharpCamError, match="use a name ending in"):
        FileSink(tmp_path / "x.gif", 160, 90, 15.0)
    with pytest.raises(SharpCamError, match="even width and height"):
        FileSink(tmp_path / "odd.mkv", 641, 359, 15.0)  # OpenCV would silently crop it


def test_null_sink_counts() -> None:
    with open_sink("null", None, 160, 90, 30.0) as sink:
        assert isinstance(sink, NullSink)
        sink.send(panned_frames(160, 90, 1)[0])
    assert sink.frames == 1


def test_virtual_camera_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SharpCamError, match="modprobe v4l2loopback"):
        open_sink("camera", "/dev/video98", 160, 90, 30.0)
    monkeypatch.setattr("vcam.devices.find_output_device", lambda label="SharpCam": None)
    with pytest.raises(SharpCamError, match="no v4l2loopback virtual camera found"):
        sinks.default_output_device()
    not_a_device = tmp_path / "video10"
    not_a_device.write_bytes(b"")
    with pytest.raises(SharpCamError) as info:
        open_sink("camera", str(not_a_device), 160, 90, 30.0)
    assert "cannot open virtual camera" in str(info.value) and "\n" not in str(info.value)
