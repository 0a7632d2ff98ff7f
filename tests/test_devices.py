"""V4L2 discovery on fake /sys, /dev and /proc trees (this machine has no /dev/video*)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcam import devices
from vcam.devices import (
    CAP_DEVICE_CAPS,
    CAP_META_CAPTURE,
    CAP_STREAMING,
    CAP_VIDEO_CAPTURE,
    CAP_VIDEO_OUTPUT,
    DeviceProbe,
    Discovery,
    FrameSize,
    LoopbackDevice,
    PixelFormat,
    V4l2Capability,
)

MJPG = PixelFormat("MJPG", "Motion-JPEG", True, (FrameSize(1280, 720, (30.0, 15.0)), FrameSize(640, 480, (30.0,))))


def make_tree(root: Path) -> tuple[Path, Path]:
    """A laptop with a UVC webcam (capture node + metadata twin) and two v4l2loopback devices.

    Returns (sysfs_root, dev_root). Device nodes are plain files: they cannot answer ioctls.
    """
    sysfs, dev = root / "sys", root / "dev"
    nodes = {
        0: ("Integrated Webcam: Integrated C", "0", False),
        1: ("Integrated Webcam: Integrated C", "1", False),
        10: ("SharpCam", "0", True),
        11: ("OBS Virtual Camera", "0", True),
    }
    for number, (name, index, loopback) in nodes.items():
        node_dir = sysfs / "class" / "video4linux" / f"video{number}"
        node_dir.mkdir(parents=True)
        (node_dir / "name").write_text(name + "\n")
        (node_dir / "index").write_text(index + "\n")
        if loopback:
            (node_dir / "max_openers").write_text("10\n")
        dev.mkdir(exist_ok=True)
        (dev / f"video{number}").write_text("")
    by_id = dev / "v4l" / "by-id"
    by_id.mkdir(parents=True)
    os.symlink("../../video0", by_id / "usb-CN0HK3-Integrated_Webcam-video-index0")
    os.symlink("../../video1", by_id / "usb-CN0HK3-Integrated_Webcam-video-index1")
    return sysfs, dev


def capability(driver: str, card: str, device_caps: int) -> V4l2Capability:
    return V4l2Capability(driver, card, "usb-0000:00:14.0-5", 0x60800, device_caps | CAP_DEVICE_CAPS, device_caps)


def fake_probe(path: Path) -> DeviceProbe:
    """What real drivers answer for the nodes in make_tree()."""
    answers = {
        "video0": DeviceProbe(capability("uvcvideo", "Integrated Webcam: Integrated C", CAP_VIDEO_CAPTURE | CAP_STREAMING), (MJPG,)),
        "video1": DeviceProbe(capability("uvcvideo", "Integrated Webcam: Integrated C", CAP_META_CAPTURE | CAP_STREAMING), ()),
        "video10": DeviceProbe(capability("v4l2 loopback", "SharpCam", CAP_VIDEO_OUTPUT | CAP_STREAMING), ()),
        "video11": DeviceProbe(capability("v4l2 loopback", "OBS Virtual Camera", CAP_VIDEO_OUTPUT | CAP_STREAMING), ()),
    }
    return answers[path.name]


def test_ioctl_request_numbers_match_videodev2_h() -> None:
    assert devices.VIDIOC_QUERYCAP == 0x80685600
    assert devices.VIDIOC_ENUM_FMT == 0xC0405602
    assert devices.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert devices.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B


def test_parse_capability_of_a_loopback_device() -> None:
    raw = struct.pack(
        "=16s32s32sIII12x", b"v4l2 loopback", b"SharpCam", b"platform:v4l2loopback-000", 0x60800,
        CAP_DEVICE_CAPS | CAP_VIDEO_CAPTURE | CAP_VIDEO_OUTPUT | CAP_STREAMING, CAP_VIDEO_OUTPUT | CAP_STREAMING,
    )
    assert len(raw) == 104
    cap = devices.parse_capability(raw)
    assert (cap.driver, cap.card, cap.bus_info) == ("v4l2 loopback", "SharpCam", "platform:v4l2loopback-000")
    assert cap.is_loopback
    assert not cap.is_video_capture  # node caps (device_caps) win over the whole-device caps


def test_fourcc_to_str() -> None:
    assert devices.fourcc_to_str(0x47504A4D) == "MJPG"
    assert devices.fourcc_to_str(int.from_bytes(b"YUYV", "little")) == "YUYV"
    assert devices.fourcc_to_str(int.from_bytes(b"Y8  ", "little")) == "Y8"


def test_discover_with_driver_answers(tmp_path: Path) -> None:
    sysfs, dev = make_tree(tmp_path)
    found = devices.discover(sysfs, dev, fake_probe)
    assert [c.path for c in found.cameras] == [str(dev / "video0")]  # the metadata node is left out
    camera = found.cameras[0]
    assert camera.name == "Integrated Webcam: Integrated C"
    assert camera.driver == "uvcvideo"
    assert camera.by_id == (str(dev / "v4l" / "by-id" / "usb-CN0HK3-Integrated_Webcam-video-index0"),)
    assert camera.formats == (MJPG,)
    assert found.loopbacks == (
        LoopbackDevice(str(dev / "video10"), "SharpCam"),
        LoopbackDevice(str(dev / "video11"), "OBS Virtual Camera"),
    )


def test_discover_from_sysfs_alone_when_nodes_cannot_be_queried(tmp_path: Path) -> None:
    """The real probe on plain files fails (ENOTTY); sysfs still tells cameras from loopbacks."""
    sysfs, dev = make_tree(tmp_path)
    found = devices.discover(sysfs, dev)
    assert [c.path for c in found.cameras] == [str(dev / "video0")]
    assert "VIDIOC_QUERYCAP" in (found.cameras[0].error or "")
    assert [d.label for d in found.loopbacks] == ["SharpCam", "OBS Virtual Camera"]


def test_find_output_device_prefers_the_sharpcam_label(tmp_path: Path) -> None:
    sysfs, dev = make_tree(tmp_path)
    assert devices.find_output_device("SharpCam", sysfs, dev, fake_probe) == LoopbackDevice(str(dev / "video10"), "SharpCam")
    assert devices.find_output_device("OBS Virtual Camera", sysfs, dev, fake_probe).path == str(dev / "video11")
    # No loopback with the label: the first loopback.
    assert devices.find_output_device("Nope", sysfs, dev, fake_probe).path == str(dev / "video10")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert devices.find_output_device("SharpCam", empty / "sys", empty / "dev", fake_probe) is None


def test_probe_device_on_a_non_v4l2_file_reports_instead_of_raising(tmp_path: Path) -> None:
    result = devices.probe_device(Path(os.devnull))
    assert result.capability is None and "VIDIOC_QUERYCAP" in (result.error or "")
    missing = devices.probe_device(tmp_path / "video99")
    assert missing.capability is None and "cannot open" in (missing.error or "")


def make_proc(root: Path, processes: dict[int, tuple[str, str, list[str]]]) -> Path:
    """A fake /proc: pid -> (comm, cmdline, fd link targets)."""
    proc = root / "proc"
    for pid, (comm, cmdline, targets) in processes.items():
        fd_dir = proc / str(pid) / "fd"
        fd_dir.mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
        (proc / str(pid) / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0")
        for fd, target in enumerate(targets):
            os.symlink(target, fd_dir / str(fd))
    (proc / "modules").write_text("")
    return proc


def test_find_openers(tmp_path: Path) -> None:
    _sysfs, dev = make_tree(tmp_path)
    cam, sharpcam_dev = str(dev / "video0"), str(dev / "video10")
    proc = make_proc(
        tmp_path,
        {
            100: ("chrome", "/opt/google/chrome/chrome --type=utility", ["/dev/null", sharpcam_dev]),
            200: ("bash", "bash", ["/dev/pts/0"]),
            300: ("python3", "python3 /usr/bin/sharpcam start", [cam, sharpcam_dev]),
        },
    )
    scan = devices.find_openers(sharpcam_dev, proc)
    assert [(o.pid, o.command) for o in scan.openers] == [(100, "chrome"), (300, "python3")]
    assert scan.openers[1].cmdline == "python3 /usr/bin/sharpcam start"
    assert [o.pid for o in devices.find_openers(sharpcam_dev, proc, exclude_pids=(300,)).openers] == [100]
    assert [o.pid for o in devices.find_openers(cam, proc).openers] == [300]
    assert devices.find_openers(str(dev / "video11"), proc).openers == ()


def test_listing_text_and_json(tmp_path: Path) -> None:
    sysfs, dev = make_tree(tmp_path)
    found = devices.discover(sysfs, dev, fake_probe)
    text = devices.format_discovery(found)
    assert "Integrated Webcam: Integrated C (uvcvideo)" in text
    assert "MJPG Motion-JPEG: 1280x720@30/15, 640x480@30" in text
    assert f"{dev / 'video10'}  SharpCam  <- SharpCam output" in text
    data = json.loads(devices.discovery_to_json(found))
    assert data["loopbacks"][0] == {"path": str(dev / "video10"), "label": "SharpCam"}
    assert data["cameras"][0]["formats"][0]["sizes"][0] == {"width": 1280, "height": 720, "fps": [30.0, 15.0]}

    none_text = devices.format_discovery(Discovery((), ()))
    assert "no cameras found" in none_text and "no loopback devices found" in none_text


@pytest.mark.parametrize("args", [[], ["--json"]])
def test_devices_command_exits_zero_on_this_machine(args: list[str]) -> None:
    result = CliRunner().invoke(devices.devices_command, args)
    assert result.exit_code == 0, result.output
    if args:
        assert set(json.loads(result.output)) == {"cameras", "loopbacks"}
    else:
        assert "Cameras:" in result.output and "Virtual cameras (v4l2loopback):" in result.output
