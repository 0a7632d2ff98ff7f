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


# ---- output integrity: nothing cut short is ever left as if complete

import os  # noqa: E402
import subprocess  # noqa: E402

import numpy as np  # noqa: E402


@pytest.fixture
def small_fs(tmp_path: Path):
    """A real 512 KiB filesystem (tmpfs); these tests need root's mount, as CI and the dev machines have."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the /dev/full test covers the same path")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("name", ["x.mp4", "x.mkv", "x.avi"])
def test_full_disk_is_an_error_and_leaves_nothing(small_fs: Path, name: str) -> None:
    out = small_fs / name
    frames = panned_frames(640, 360, 60)
    with pytest.raises(SharpCamError, match=f"writing {out} failed .*nothing was kept"):
        with FileSink(out, 640, 360, 30.0) as sink:
            for f in frames:
                sink.send(f)
    assert list(small_fs.iterdir()) == []


def test_a_write_that_silently_fails_is_caught_at_close(tmp_path: Path) -> None:
    # The partial file is a link to /dev/full: every write fails with ENOSPC, free space looks fine.
    out = tmp_path / "x.mkv"
    os.symlink("/dev/full", partial_path(out))
    with pytest.raises(SharpCamError, match="holds 0 of 4 frames|No space left"):
        with FileSink(out, 160, 90, 15.0) as sink:
            for f in panned_frames(160, 90, 4):
                sink.send(f)
    assert not out.exists() and not os.path.lexists(partial_path(out))


def test_read_only_folder_is_one_line(tmp_path: Path) -> None:
    mnt = tmp_path / "ro"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        with pytest.raises(SharpCamError, match="not writable"):
            FileSink(mnt / "x.mp4", 160, 90, 15.0)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_mp4_keeps_the_levels(tmp_path: Path) -> None:
    pytest.importorskip("av", reason="H.264 needs PyAV (the [video] extra, in [test])")
    out = tmp_path / "grey.mp4"
    greys = [np.full((90, 160, 3), v, np.uint8) for v in (16, 64, 128, 200, 235)]
    with FileSink(out, 160, 90, 15.0) as sink:
        assert sink.codec == "H.264"
        for g in greys:
            sink.send(g)
    got = read_all_frames(out)
    assert len(got) == 5
    for want, frame in zip(greys, got):
        assert abs(float(frame.mean()) - float(want.mean())) < 0.6  # OpenCV's mp4v: 3-4 levels darker


def test_without_pyav_mp4_is_lossless_ffv1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks, "have_pyav", lambda: False)
    out = tmp_path / "x.mp4"
    frames = panned_frames(160, 90, 3)
    with FileSink(out, 160, 90, 15.0) as sink:
        assert sink.codec == "FFV1"
        for f in frames:
            sink.send(f)
    assert all((a == b).all() for a, b in zip(read_all_frames(out), frames, strict=True))


def test_null_sink_does_the_device_conversion() -> None:
    import cv2

    frame = panned_frames(160, 90, 1)[0]
    with NullSink(160, 90, 30.0) as sink:
        buf = sink.i420_u8
        sink.send(frame)
        assert sink.i420_u8 is buf  # converted into the one preallocated buffer
    assert np.array_equal(sink.i420_u8, cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420))
