"""V4L2 device discovery in pure Python: no torch, no v4l-utils, no OpenCV.

Reads /sys/class/video4linux/*/name and index, /dev/video*, /dev/v4l/by-id links, and asks each
node VIDIOC_QUERYCAP / VIDIOC_ENUM_FMT / VIDIOC_ENUM_FRAMESIZES / VIDIOC_ENUM_FRAMEINTERVALS with
fcntl.ioctl. Opening a node for these queries does not start streaming (a camera's light stays
off). Every root path is a parameter so tests can build fake trees; the ioctl probe is a parameter
too, because a fake tree holds regular files that cannot answer V4L2 ioctls.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

SYSFS_ROOT: Final[Path] = Path("/sys")
DEV_ROOT: Final[Path] = Path("/dev")
PROC_ROOT: Final[Path] = Path("/proc")

LOOPBACK_DRIVER: Final[str] = "v4l2 loopback"
SHARPCAM_LABEL: Final[str] = "SharpCam"
# The module options SharpCam expects (doctor, error messages and the modprobe.d file agree on them).
LOOPBACK_OPTIONS: Final[str] = f"video_nr=10 card_label={SHARPCAM_LABEL} exclusive_caps=1"
MODPROBE_COMMAND: Final[str] = f"sudo modprobe v4l2loopback {LOOPBACK_OPTIONS}"

# <linux/videodev2.h> capability bits.
CAP_VIDEO_CAPTURE: Final[int] = 0x00000001
CAP_VIDEO_OUTPUT: Final[int] = 0x00000002
CAP_VIDEO_CAPTURE_MPLANE: Final[int] = 0x00001000
CAP_VIDEO_OUTPUT_MPLANE: Final[int] = 0x00002000
CAP_VIDEO_M2M_MPLANE: Final[int] = 0x00004000
CAP_VIDEO_M2M: Final[int] = 0x00008000
CAP_META_CAPTURE: Final[int] = 0x00800000
CAP_READWRITE: Final[int] = 0x01000000
CAP_STREAMING: Final[int] = 0x04000000
CAP_DEVICE_CAPS: Final[int] = 0x80000000

BUF_TYPE_VIDEO_CAPTURE: Final[int] = 1
FMT_FLAG_COMPRESSED: Final[int] = 0x0001
FRMSIZE_TYPE_DISCRETE: Final[int] = 1
FRMIVAL_TYPE_DISCRETE: Final[int] = 1

# Struct layouts from <linux/videodev2.h> (native byte order, no padding surprises: all u32/char).
_CAPABILITY = struct.Struct("=16s32s32sIII12x")  # struct v4l2_capability, 104 bytes
_FMTDESC = struct.Struct("=III32sII12x")  # struct v4l2_fmtdesc, 64 bytes
_FRMSIZEENUM = struct.Struct("=III24s8x")  # struct v4l2_frmsizeenum, 44 bytes
_FRMIVALENUM = struct.Struct("=IIIII24s8x")  # struct v4l2_frmivalenum, 52 bytes


def _ioc(direction: int, nr: int, size: int) -> int:
    """Linux _IOC() for the 'V' (V4L2) ioctl family."""
    return (direction << 30) | (size << 16) | (ord("V") << 8) | nr


_IOC_READ: Final[int] = 2
_IOC_READWRITE: Final[int] = 3
VIDIOC_QUERYCAP: Final[int] = _ioc(_IOC_READ, 0, _CAPABILITY.size)  # 0x80685600
VIDIOC_ENUM_FMT: Final[int] = _ioc(_IOC_READWRITE, 2, _FMTDESC.size)  # 0xC0405602
VIDIOC_ENUM_FRAMESIZES: Final[int] = _ioc(_IOC_READWRITE, 74, _FRMSIZEENUM.size)  # 0xC02C564A
VIDIOC_ENUM_FRAMEINTERVALS: Final[int] = _ioc(_IOC_READWRITE, 75, _FRMIVALENUM.size)  # 0xC034564B

# Enumeration loops stop here even if a broken driver never answers EINVAL.
_MAX_ENUM: Final[int] = 256


@dataclass(frozen=True)
class V4l2Capability:
    """The answer to VIDIOC_QUERYCAP."""

    driver: str
    card: str
    bus_info: str
    version: int
    capabilities: int
    device_caps: int

    @property
    def node_caps(self) -> int:
        """Capabilities of this node (device_caps when the driver fills it in, as all modern ones do)."""
        return self.device_caps if self.capabilities & CAP_DEVICE_CAPS else self.capabilities

    @property
    def is_loopback(self) -> bool:
        return self.driver == LOOPBACK_DRIVER

    @property
    def is_video_capture(self) -> bool:
        """A node that gives video frames (not metadata, not a memory-to-memory codec)."""
        caps = self.node_caps
        m2m = caps & (CAP_VIDEO_M2M | CAP_VIDEO_M2M_MPLANE)
        return bool(caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE)) and not m2m


@dataclass(frozen=True)
class FrameSize:
    """One frame size a camera offers for a pixel format; `fps` lists discrete rates (may be empty)."""

    width: int
    height: int
    fps: tuple[float, ...]


@dataclass(frozen=True)
class PixelFormat:
    """One capture format: FourCC ("MJPG", "YUYV"), the driver's description and its sizes.

    `size_range` is set instead of discrete sizes for stepwise/continuous drivers, e.g. "16x16-1920x1080".
    """

    fourcc: str
    description: str
    compressed: bool
    sizes: tuple[FrameSize, ...]
    size_range: str | None = None


@dataclass(frozen=True)
class DeviceProbe:
    """What a node told us; `error` is set (and the rest empty) when it could not be asked."""

    capability: V4l2Capability | None
    formats: tuple[PixelFormat, ...]
    error: str | None = None


@dataclass(frozen=True)
class Camera:
    """A physical (or any non-loopback) capture device.

    `path` is the /dev/videoN path as a str (what OpenCV and pyvirtualcam take); `by_id` holds
    the stable /dev/v4l/by-id names pointing at it; `error` says why it could not be queried
    (e.g. permission denied), in which case `formats` is empty.
    """

    path: str
    name: str
    driver: str
    bus_info: str
    by_id: tuple[str, ...]
    formats: tuple[PixelFormat, ...]
    error: str | None = None


@dataclass(frozen=True)
class LoopbackDevice:
    """A v4l2loopback virtual camera: `path` (/dev/videoN, a str) and its card `label`."""

    path: str
    label: str


@dataclass(frozen=True)
class Discovery:
    """Everything `sharpcam devices` shows."""

    cameras: tuple[Camera, ...]
    loopbacks: tuple[LoopbackDevice, ...]


@dataclass(frozen=True)
class Opener:
    """A process holding a device open: its pid, short name (/proc/PID/comm) and command line."""

    pid: int
    command: str
    cmdline: str


@dataclass(frozen=True)
class OpenerScan:
    """The processes holding a device open, and how many processes could not be inspected
    (other users' /proc/PID/fd is unreadable without root)."""

    openers: tuple[Opener, ...]
    unreadable: int


Probe = Callable[[Path], DeviceProbe]


def _c_string(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def fourcc_to_str(code: int) -> str:
    """Little-endian FourCC code -> text, e.g. 0x47504A4D -> "MJPG" (trailing spaces trimmed)."""
    return code.to_bytes(4, "little").decode("ascii", "replace").rstrip(" \0")


def parse_capability(buf: bytes) -> V4l2Capability:
    """Decodes a 104-byte struct v4l2_capability."""
    driver, card, bus_info, version, capabilities, device_caps = _CAPABILITY.unpack(buf)
    return V4l2Capability(
        driver=_c_string(driver),
        card=_c_string(card),
        bus_info=_c_string(bus_info),
        version=version,
        capabilities=capabilities,
        device_caps=device_caps,
    )


def query_capability(fd: int) -> V4l2Capability:
    """VIDIOC_QUERYCAP on an open V4L2 fd; raises OSError (ENOTTY) for a non-V4L2 file."""
    buf = bytearray(_CAPABILITY.size)
    fcntl.ioctl(fd, VIDIOC_QUERYCAP, buf, True)
    return parse_capability(bytes(buf))


def _enum(fd: int, request: int, layout: struct.Struct, fields: Callable[[int], tuple[object, ...]]) -> Iterable[tuple]:
    """Yields the unpacked answers of an index-driven V4L2 enumeration until the driver says EINVAL."""
    for index in range(_MAX_ENUM):
        buf = bytearray(layout.pack(*fields(index)))
        try:
            fcntl.ioctl(fd, request, buf, True)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOTTY):
                return
            raise
        yield layout.unpack(bytes(buf))


def _frame_rates(fd: int, pixelformat: int, width: int, height: int) -> tuple[float, ...]:
    rates: list[float] = []
    for _i, _pf, _w, _h, kind, union in _enum(
        fd, VIDIOC_ENUM_FRAMEINTERVALS, _FRMIVALENUM, lambda i: (i, pixelformat, width, height, 0, b"")
    ):
        if kind != FRMIVAL_TYPE_DISCRETE:
            break
        numerator, denominator = struct.unpack_from("=II", union)
        if numerator:
            rates.append(round(denominator / numerator, 2))
    return tuple(sorted(set(rates), reverse=True))


def _frame_sizes(fd: int, pixelformat: int) -> tuple[tuple[FrameSize, ...], str | None]:
    sizes: list[FrameSize] = []
    for _i, _pf, kind, union in _enum(fd, VIDIOC_ENUM_FRAMESIZES, _FRMSIZEENUM, lambda i: (i, pixelformat, 0, b"")):
        if kind == FRMSIZE_TYPE_DISCRETE:
            width, height = struct.unpack_from("=II", union)
            sizes.append(FrameSize(width, height, _frame_rates(fd, pixelformat, width, height)))
        else:
            # Stepwise/continuous: one answer describing the whole range.
            min_w, max_w, _step_w, min_h, max_h, _step_h = struct.unpack_from("=6I", union)
            return (), f"{min_w}x{min_h}-{max_w}x{max_h}"
    sizes.sort(key=lambda s: (s.width * s.height, s.width), reverse=True)
    return tuple(sizes), None


def enum_formats(fd: int) -> tuple[PixelFormat, ...]:
    """VIDIOC_ENUM_FMT (+ frame sizes and rates) for video capture on an open fd."""
    formats: list[PixelFormat] = []
    for _i, _t, flags, description, pixelformat, _mbus in _enum(
        fd, VIDIOC_ENUM_FMT, _FMTDESC, lambda i: (i, BUF_TYPE_VIDEO_CAPTURE, 0, b"", 0, 0)
    ):
        sizes, size_range = _frame_sizes(fd, pixelformat)
        formats.append(
            PixelFormat(
                fourcc=fourcc_to_str(pixelformat),
                description=_c_string(description),
                compressed=bool(flags & FMT_FLAG_COMPRESSED),
                sizes=sizes,
                size_range=size_range,
            )
        )
    return tuple(formats)


def probe_device(path: Path) -> DeviceProbe:
    """Opens a /dev/video* node (non-blocking, no streaming) and asks what it is.

    Never raises for an unusable node: permission problems, a vanished device or a non-V4L2
    file come back as `error`.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return DeviceProbe(None, (), f"cannot open {path}: {exc.strerror}")
    try:
        capability = query_capability(fd)
        formats = enum_formats(fd) if capability.is_video_capture and not capability.is_loopback else ()
        return DeviceProbe(capability, formats)
    except OSError as exc:
        return DeviceProbe(None, (), f"{path} did not answer VIDIOC_QUERYCAP: {exc.strerror}")
    finally:
        os.close(fd)


@dataclass(frozen=True)
class VideoNode:
    """A /dev/videoN node as sysfs describes it, before any ioctl."""

    number: int
    path: Path
    sysfs_name: str | None
    sysfs_index: int | None
    sysfs_loopback: bool


_VIDEO_RE: Final[re.Pattern[str]] = re.compile(r"^video(\d+)$")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def scan_video_nodes(sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT) -> tuple[VideoNode, ...]:
    """All videoN nodes named in /sys/class/video4linux or present as /dev/videoN, by number."""
    class_dir = sysfs_root / "class" / "video4linux"
    numbers: set[int] = set()
    for parent in (class_dir, dev_root):
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            match = _VIDEO_RE.match(name)
            if match:
                numbers.add(int(match.group(1)))
    nodes = []
    for number in sorted(numbers):
        node_dir = class_dir / f"video{number}"
        index_text = _read_text(node_dir / "index")
        nodes.append(
            VideoNode(
                number=number,
                path=dev_root / f"video{number}",
                sysfs_name=_read_text(node_dir / "name"),
                sysfs_index=int(index_text) if index_text and index_text.isdigit() else None,
                # v4l2loopback adds these attributes to its devices; no other driver does.
                sysfs_loopback=(node_dir / "max_openers").exists(),
            )
        )
    return tuple(nodes)


def by_id_links(dev_root: Path = DEV_ROOT) -> dict[str, tuple[str, ...]]:
    """Maps a resolved /dev/videoN path to the /dev/v4l/by-id names that point at it."""
    links: dict[str, list[str]] = {}
    by_id_dir = dev_root / "v4l" / "by-id"
    try:
        names = sorted(os.listdir(by_id_dir))
    except OSError:
        return {}
    for name in names:
        link = by_id_dir / name
        links.setdefault(os.path.realpath(link), []).append(str(link))
    return {target: tuple(names) for target, names in links.items()}


def discover(
    sysfs_root: Path = SYSFS_ROOT,
    dev_root: Path = DEV_ROOT,
    probe: Probe = probe_device,
) -> Discovery:
    """Cameras and loopback devices, each node probed once."""
    links = by_id_links(dev_root)
    cameras: list[Camera] = []
    loopbacks: list[LoopbackDevice] = []
    for node in scan_video_nodes(sysfs_root, dev_root):
        result = probe(node.path) if node.path.exists() else DeviceProbe(None, (), f"{node.path} does not exist")
        cap = result.capability
        is_loopback = node.sysfs_loopback or (cap is not None and cap.is_loopback)
        if is_loopback:
            label = (cap.card if cap is not None else None) or node.sysfs_name or ""
            loopbacks.append(LoopbackDevice(path=str(node.path), label=label))
            continue
        if cap is not None:
            if not cap.is_video_capture:
                continue  # UVC metadata nodes, codecs, radio...
        elif node.sysfs_index not in (None, 0):
            continue  # unqueryable and not the first node of its device: a metadata twin
        cameras.append(
            Camera(
                path=str(node.path),
                name=(cap.card if cap is not None else None) or node.sysfs_name or node.path.name,
                driver=cap.driver if cap is not None else "",
                bus_info=cap.bus_info if cap is not None else "",
                by_id=links.get(os.path.realpath(node.path), ()),
                formats=result.formats,
                error=result.error,
            )
        )
    return Discovery(tuple(cameras), tuple(loopbacks))


def list_cameras(sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT, probe: Probe = probe_device) -> tuple[Camera, ...]:
    """Capture devices that are not v4l2loopback, by /dev/videoN number."""
    return discover(sysfs_root, dev_root, probe).cameras


def list_loopback_devices(
    sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT, probe: Probe = probe_device
) -> tuple[LoopbackDevice, ...]:
    """v4l2loopback devices with their card labels, by /dev/videoN number."""
    return discover(sysfs_root, dev_root, probe).loopbacks


def find_output_device(
    preferred_label: str = SHARPCAM_LABEL,
    sysfs_root: Path = SYSFS_ROOT,
    dev_root: Path = DEV_ROOT,
    probe: Probe = probe_device,
) -> LoopbackDevice | None:
    """The loopback labelled `preferred_label`, else the first loopback, else None."""
    loopbacks = list_loopback_devices(sysfs_root, dev_root, probe)
    for device in loopbacks:
        if device.label == preferred_label:
            return device
    return loopbacks[0] if loopbacks else None


def find_openers(
    device: Path | str,
    proc_root: Path = PROC_ROOT,
    exclude_pids: Iterable[int] = (),
) -> OpenerScan:
    """Processes with `device` open, found by reading every /proc/PID/fd/* link.

    This is how doctor spots the "VIDIOC_S_FMT: Errno 22 Invalid argument" trap: an app that
    opened the virtual camera before SharpCam set its format. Processes we may not inspect
    (other users', without root) are counted in `unreadable`, not guessed at.
    """
    targets = {str(device), os.path.realpath(device)}
    excluded = set(exclude_pids)
    openers: list[Opener] = []
    unreadable = 0
    proc = str(proc_root)
    try:
        entries = os.listdir(proc)
    except OSError:
        return OpenerScan((), 0)
    # The daemon's --on-demand mode runs this every half second over every fd on the desktop:
    # plain strings and readlink relative to an open directory fd keep it to a few ms.
    for entry in entries:
        if not entry.isdigit() or int(entry) in excluded:
            continue
        try:
            dir_fd = os.open(f"{proc}/{entry}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except PermissionError:
            unreadable += 1
            continue
        except OSError:
            continue  # the process exited meanwhile
        try:
            found = False
            for fd in os.listdir(dir_fd):
                try:
                    if os.readlink(fd, dir_fd=dir_fd) in targets:
                        found = True
                        break
                except OSError:
                    continue
        except OSError:
            continue
        finally:
            os.close(dir_fd)
        if found:
            pid_dir = proc_root / entry
            try:
                cmdline_raw = (pid_dir / "cmdline").read_bytes()
            except OSError:
                cmdline_raw = b""
            openers.append(
                Opener(
                    pid=int(entry),
                    command=_read_text(pid_dir / "comm") or "?",
                    cmdline=cmdline_raw.replace(b"\0", b" ").decode("utf-8", "replace").strip(),
                )
            )
    openers.sort(key=lambda o: o.pid)
    return OpenerScan(tuple(openers), unreadable)


def _format_rate(fps: float) -> str:
    return f"{fps:g}"


def _format_pixel_format(fmt: PixelFormat) -> str:
    if fmt.size_range is not None:
        sizes = fmt.size_range
    elif fmt.sizes:
        parts = []
        for size in fmt.sizes:
            rates = "/".join(_format_rate(r) for r in size.fps)
            parts.append(f"{size.width}x{size.height}" + (f"@{rates}" if rates else ""))
        sizes = ", ".join(parts)
    else:
        sizes = "(no sizes listed)"
    return f"{fmt.fourcc:<4} {fmt.description}: {sizes}"


def format_discovery(found: Discovery) -> str:
    """The human-readable `sharpcam devices` listing."""
    lines = ["Cameras:"]
    if not found.cameras:
        lines.append("  no cameras found (plug one in; `ls -l /dev/video*` lists the nodes)")
    for camera in found.cameras:
        driver = f" ({camera.driver})" if camera.driver else ""
        lines.append(f"  {camera.path}  {camera.name}{driver}")
        for link in camera.by_id:
            lines.append(f"      {link}")
        if camera.error:
            lines.append(f"      cannot query: {camera.error}")
        for fmt in camera.formats:
            lines.append(f"      {_format_pixel_format(fmt)}")
    lines.append("Virtual cameras (v4l2loopback):")
    if not found.loopbacks:
        lines.append(
            f"  no loopback devices found ({MODPROBE_COMMAND}; `sharpcam doctor` explains)"
        )
    for device in found.loopbacks:
        marker = "  <- SharpCam output" if device.label == SHARPCAM_LABEL else ""
        lines.append(f"  {device.path}  {device.label or '(no label)'}{marker}")
    return "\n".join(lines)


def discovery_to_json(found: Discovery) -> str:
    """`sharpcam devices --json`: {"cameras": [...], "loopbacks": [...]}."""
    return json.dumps(
        {
            "cameras": [dataclasses.asdict(c) for c in found.cameras],
            "loopbacks": [dataclasses.asdict(d) for d in found.loopbacks],
        },
        indent=2,
    )


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def devices_command(as_json: bool) -> None:
    """List cameras (names, formats, sizes) and virtual cameras (v4l2loopback, with labels)."""
    found = discover()
    click.echo(discovery_to_json(found) if as_json else format_discovery(found))
