"""`sharpcam doctor`: checks the machine for everything SharpCam needs and prints each fix.

One line per check (OK / WARN / FAIL), the fix commands indented under it; `--json` for
scripts; exit code 1 when any check FAILs. Every check reads files under roots given in
`SystemPaths`, so tests build fake /sys, /proc, /dev, /etc and /lib/modules trees in tmp_path.
"""

from __future__ import annotations

import dataclasses
import grp
import json
import os
import pwd
import re
import stat
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import click

from vcam import devices
from vcam.devices import Camera, Discovery, LoopbackDevice, Probe

OK: Final[str] = "OK"
WARN: Final[str] = "WARN"
FAIL: Final[str] = "FAIL"

MODULE: Final[str] = "v4l2loopback"
MODPROBE_COMMAND: Final[str] = devices.MODPROBE_COMMAND
RELOAD_COMMAND: Final[str] = f"sudo modprobe -r v4l2loopback && {MODPROBE_COMMAND}"
PERSIST_COMMANDS: Final[tuple[str, ...]] = (
    f"echo 'options v4l2loopback {devices.LOOPBACK_OPTIONS}' "
    "| sudo tee /etc/modprobe.d/sharpcam-v4l2loopback.conf",
    "echo v4l2loopback | sudo tee /etc/modules-load.d/sharpcam.conf",
)
INSTALL_COMMAND: Final[str] = "sudo apt install v4l2loopback-dkms linux-headers-$(uname -r)"
MOK_COMMANDS: Final[tuple[str, ...]] = (
    "sudo mokutil --import /var/lib/dkms/mok.pub   (Ubuntu: /var/lib/shim-signed/mok/MOK.der)",
    "reboot, choose 'Enroll MOK' in the blue MOK manager screen, then: " + MODPROBE_COMMAND,
    "or turn Secure Boot off in the firmware settings",
)
# Kernel messages that mean the module was refused for its (missing) signature. Not among them:
# "module verification failed: signature and/or required key missing - tainting kernel", which
# a non-enforcing kernel logs while loading the module anyway (seen in the e2e guest).
_SIGNATURE_REJECTIONS: Final[tuple[str, ...]] = (
    "Key was rejected by service",
    "Lockdown: modprobe: unsigned module loading is restricted",
    "Loading of unsigned module is rejected",
    "Loading of module with unavailable key is rejected",
)
_SECURE_BOOT_VAR: Final[str] = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


@dataclass(frozen=True)
class Check:
    """One doctor finding: `status` is OK, WARN or FAIL; `fixes` are commands or steps to run."""

    name: str
    status: str
    summary: str
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SystemPaths:
    """Where doctor looks; tests point these into tmp_path."""

    sys: Path = Path("/sys")
    proc: Path = Path("/proc")
    dev: Path = Path("/dev")
    etc: Path = Path("/etc")
    lib_modules: Path = Path("/lib/modules")
    kernel_release: str = field(default_factory=lambda: os.uname().release)


@dataclass(frozen=True)
class UserInfo:
    """Who runs SharpCam: `gids` are the groups this login session has, `configured_groups`
    the group names /etc/group gives the user (they differ until the user logs in again)."""

    uid: int
    name: str
    gids: frozenset[int]
    configured_groups: frozenset[str]


def current_user() -> UserInfo:
    """The user running this process."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    gids = frozenset({os.getgid(), *os.getgroups()})
    configured = {g.gr_name for g in grp.getgrall() if name in g.gr_mem}
    try:
        configured.add(grp.getgrgid(pwd.getpwuid(uid).pw_gid).gr_name)
    except KeyError:
        pass
    return UserInfo(uid=uid, name=name, gids=gids, configured_groups=frozenset(configured))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


# ---------------------------------------------------------------- kernel module facts


def module_loaded(paths: SystemPaths) -> bool:
    """v4l2loopback is in the running kernel (/sys/module/v4l2loopback or /proc/modules)."""
    if (paths.sys / "module" / MODULE).is_dir():
        return True
    modules = _read(paths.proc / "modules") or ""
    return any(line.split(" ", 1)[0] == MODULE for line in modules.splitlines())


def module_installed(paths: SystemPaths) -> bool:
    """A v4l2loopback.ko* exists for the running kernel (modules.dep, else a walk of the tree)."""
    release_dir = paths.lib_modules / paths.kernel_release
    dep = _read(release_dir / "modules.dep") or ""
    if re.search(r"(^|/)v4l2loopback\.ko(\.[a-z]+)?:", dep, re.MULTILINE):
        return True
    for _root, _dirs, files in os.walk(release_dir):
        if any(f.startswith("v4l2loopback.ko") for f in files):
            return True
    return False


def secure_boot_enabled(paths: SystemPaths) -> bool | None:
    """Secure Boot state from the EFI variable (4 attribute bytes + 1 value byte); None without EFI."""
    if not (paths.sys / "firmware" / "efi").is_dir():
        return None
    try:
        data = (paths.sys / "firmware" / "efi" / "efivars" / _SECURE_BOOT_VAR).read_bytes()
    except OSError:
        return None
    return len(data) >= 5 and data[4] == 1


def lockdown_mode(paths: SystemPaths) -> str | None:
    """The kernel lockdown mode in brackets in /sys/kernel/security/lockdown, e.g. "integrity"."""
    text = _read(paths.sys / "kernel" / "security" / "lockdown")
    match = re.search(r"\[(\w+)\]", text or "")
    return match.group(1) if match else None


def read_kernel_log() -> str | None:
    """The kernel log (dmesg, else journalctl -k), or None when neither may be read."""
    for command in (["dmesg"], ["journalctl", "-k", "-b", "-q", "--no-pager", "-o", "cat"]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and result.stdout:
            return result.stdout
    return None


# ---------------------------------------------------------------- checks


def check_module(paths: SystemPaths) -> Check:
    """Is v4l2loopback loaded, and if not, is it at least installed?"""
    name = "v4l2loopback module"
    if module_loaded(paths):
        return Check(name, OK, "loaded")
    if not (paths.proc / "modules").exists():
        # A kernel built without loadable modules (containers, some VMs): no package can add one.
        return Check(
            name,
            FAIL,
            f"kernel {paths.kernel_release} cannot load modules (no /proc/modules), so installing v4l2loopback "
            "cannot help here",
            ("run SharpCam on the host (or a VM whose kernel loads modules) and give it /dev/videoN, "
             "or use a kernel with v4l2loopback built in",),
        )
    if module_installed(paths):
        return Check(
            name,
            FAIL,
            f"installed for kernel {paths.kernel_release} but not loaded: there is no virtual camera",
            (MODPROBE_COMMAND,),
        )
    return Check(
        name,
        FAIL,
        f"not installed for kernel {paths.kernel_release}",
        (INSTALL_COMMAND, MODPROBE_COMMAND),
    )


def check_secure_boot(paths: SystemPaths, kernel_log: str | None) -> Check:
    """Does Secure Boot (or lockdown) refuse the unsigned v4l2loopback module?"""
    name = "Secure Boot"
    enabled = secure_boot_enabled(paths)
    state = {True: "on", False: "off", None: "not an EFI system"}[enabled]
    lockdown = lockdown_mode(paths)
    if lockdown not in (None, "none"):
        state += f", kernel lockdown '{lockdown}'"
    if module_loaded(paths):
        return Check(name, OK, f"{state}; not blocking v4l2loopback (it is loaded)")
    rejected = next(
        (line.strip() for line in (kernel_log or "").splitlines() if any(s in line for s in _SIGNATURE_REJECTIONS)),
        None,
    )
    if rejected is not None:
        return Check(name, FAIL, f"{state}; the kernel refused an unsigned module: {rejected[:120]}", MOK_COMMANDS)
    if enabled or lockdown not in (None, "none"):
        return Check(
            name,
            WARN,
            f"{state}: the kernel only loads signed modules; if modprobe says "
            "'Key was rejected by service', enroll the DKMS signing key",
            MOK_COMMANDS,
        )
    return Check(name, OK, f"{state}; unsigned modules may load")


def check_persistence(paths: SystemPaths) -> Check:
    """Is v4l2loopback set up to load at boot with the SharpCam options?"""
    name = "load at boot"
    load_texts = [_read(p) or "" for p in sorted((paths.etc / "modules-load.d").glob("*.conf"))]
    load_texts.append(_read(paths.etc / "modules") or "")
    loads = any(
        line.strip() == MODULE for text in load_texts for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    option_lines = [
        line.strip()
        for p in sorted((paths.etc / "modprobe.d").glob("*.conf"))
        for line in (_read(p) or "").splitlines()
        if line.split()[:2] == ["options", MODULE]
    ]
    labelled = any("card_label=SharpCam" in line for line in option_lines)
    if loads and labelled:
        return Check(name, OK, "modules-load.d and modprobe.d set up")
    missing = []
    if not loads:
        missing.append("not in /etc/modules-load.d")
    if not labelled:
        missing.append("no 'options v4l2loopback ... card_label=SharpCam' in /etc/modprobe.d")
    return Check(name, WARN, "; ".join(missing) + " (the virtual camera is gone after a reboot)", PERSIST_COMMANDS)


def _exclusive_caps_off(paths: SystemPaths, count: int) -> bool:
    """True when sysfs shows exclusive_caps off for one of the first `count` loopback devices."""
    text = _read(paths.sys / "module" / MODULE / "parameters" / "exclusive_caps")
    if not text:
        return False  # unreadable or not exported: say nothing rather than guess
    values = [v.strip() for v in text.strip().split(",")][: max(count, 1)]
    return any(v in ("N", "0") for v in values)


def check_virtual_camera(paths: SystemPaths, loopbacks: Sequence[LoopbackDevice]) -> Check:
    """Is there a loopback device, labelled SharpCam, that browsers will list?"""
    name = "virtual camera"
    if not loopbacks:
        if module_loaded(paths):
            return Check(name, FAIL, "v4l2loopback is loaded but has no devices", (RELOAD_COMMAND,))
        return Check(name, FAIL, "no v4l2loopback device (the module is not loaded, see above)", (MODPROBE_COMMAND,))
    listed = ", ".join(f"{d.path} '{d.label}'" for d in loopbacks)
    labelled = [d for d in loopbacks if d.label == devices.SHARPCAM_LABEL]
    if _exclusive_caps_off(paths, len(loopbacks)):
        return Check(
            name,
            WARN,
            f"{listed}: exclusive_caps is off, so Chrome, Zoom, Teams and Meet will not list it",
            (RELOAD_COMMAND,),
        )
    if not labelled:
        return Check(
            name,
            WARN,
            f"{listed}: none is labelled SharpCam; sharpcam will use {loopbacks[0].path}",
            (RELOAD_COMMAND, "or pass --output-device /dev/videoN"),
        )
    return Check(name, OK, listed)


def _can_read_write(path: Path, user: UserInfo) -> bool:
    """Whether `user` may open `path` read-write (os.access for ourselves, so ACLs count)."""
    if user.uid == os.getuid():
        return os.access(path, os.R_OK | os.W_OK)
    try:
        st = os.stat(path)
    except OSError:
        return False
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        return st.st_mode & 0o600 == 0o600
    if st.st_gid in user.gids:
        return st.st_mode & 0o060 == 0o060
    return st.st_mode & 0o006 == 0o006


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def check_permissions(user: UserInfo, device_paths: Sequence[str]) -> Check:
    """Can this user open the cameras and virtual cameras (the `video` group)?"""
    name = "device permissions"
    try:
        video_gid: int | None = grp.getgrnam("video").gr_gid
    except KeyError:
        video_gid = None
    in_video = user.uid == 0 or (video_gid is not None and video_gid in user.gids)
    relogin = "video" in user.configured_groups and not in_video
    denied = [p for p in device_paths if not _can_read_write(Path(p), user)]
    if denied:
        fixes: list[str] = []
        if relogin:
            fixes.append("you were added to 'video' after logging in: log out and back in (or run `newgrp video`)")
        elif not in_video:
            fixes += ["sudo usermod -aG video $USER", "then log out and back in"]
        for p in denied:
            try:
                st = os.stat(p)
                fixes.append(f"{p} is {stat.filemode(st.st_mode)} group {_group_name(st.st_gid)}: ls -l {p}")
            except OSError:
                pass
        return Check(name, FAIL, f"{user.name} cannot open {', '.join(denied)}", tuple(fixes))
    if relogin:
        return Check(name, WARN, f"{user.name} is in 'video' only after the next login", ("log out and back in",))
    if not in_video:
        if device_paths:
            return Check(
                name,
                WARN,
                f"{user.name} can open the devices now (desktop seat access) but is not in 'video'; "
                "the background service may not be",
                ("sudo usermod -aG video $USER", "then log out and back in"),
            )
        return Check(name, WARN, f"{user.name} is not in the 'video' group", ("sudo usermod -aG video $USER", "then log out and back in"))
    checked = f"; {len(device_paths)} device(s) accessible" if device_paths else ""
    who = "running as root" if user.uid == 0 else f"{user.name} is in 'video'"
    return Check(name, OK, who + checked)


def _is_sharpcam(opener: devices.Opener) -> bool:
    return "sharpcam" in opener.cmdline or "vcam" in opener.cmdline.split(" ", 2)[:2]


def _describe(openers: Sequence[devices.Opener]) -> str:
    return ", ".join(f"{o.command} (pid {o.pid})" for o in openers)


def check_virtual_camera_users(
    paths: SystemPaths, loopbacks: Sequence[LoopbackDevice], exclude_pids: Sequence[int]
) -> Check:
    """Has another app opened the virtual camera (the Errno 22 / VIDIOC_S_FMT trap)?"""
    name = "virtual camera in use"
    if not loopbacks:
        return Check(name, OK, "no virtual camera to check")
    notes: list[str] = []
    others: list[tuple[str, list[devices.Opener]]] = []
    unreadable = 0
    for device in loopbacks:
        scan = devices.find_openers(device.path, paths.proc, exclude_pids)
        unreadable = max(unreadable, scan.unreadable)
        ours = [o for o in scan.openers if _is_sharpcam(o)]
        theirs = [o for o in scan.openers if not _is_sharpcam(o)]
        if ours:
            notes.append(f"SharpCam is publishing to {device.path} ({_describe(ours)})")
        if theirs and not ours:
            others.append((device.path, theirs))
    hidden = f"; {unreadable} other users' processes not inspected (sudo sharpcam doctor sees them)" if unreadable else ""
    if others:
        busy = "; ".join(f"{path} is open in {_describe(who)}" for path, who in others)
        return Check(
            name,
            WARN,
            f"{busy}: if `sharpcam start` fails with 'VIDIOC_S_FMT' / '[Errno 22] Invalid argument', "
            f"that app opened the virtual camera before SharpCam set its format{hidden}",
            (
                "close that app (or its camera tab/call), run `sharpcam start`, then pick 'SharpCam' in the app",
                f"if it persists, reset the device: {RELOAD_COMMAND}",
            ),
        )
    summary = "; ".join(notes) if notes else "no other app has it open"
    return Check(name, OK, summary + hidden)


def _device_node(device: str, dev_root: Path) -> Path | None:
    """The /dev node a --device value names (index N -> /dev/videoN), or None for a file input."""
    if device.isdigit():
        return dev_root / f"video{device}"
    if device.startswith("/dev/"):
        return dev_root / device[len("/dev/"):]
    return None


def check_camera(
    paths: SystemPaths, cameras: Sequence[Camera], device: str, exclude_pids: Sequence[int]
) -> Check:
    """Is there a camera, is the configured --device one of them, and is it free?"""
    name = "camera"
    node = _device_node(device, paths.dev)
    if node is None:
        if Path(device).exists():
            return Check(name, OK, f"input is the file {device}")
        return Check(name, FAIL, f"--device {device} is neither a camera nor an existing file", ("sharpcam devices",))
    if not cameras:
        return Check(
            name,
            FAIL,
            "no camera found (the service still starts and waits for one)",
            ("plug the camera in, then: sharpcam devices", "if it still is missing: sudo dmesg | grep -i -e uvc -e usb | tail"),
        )
    real = os.path.realpath(node)
    chosen = next((c for c in cameras if os.path.realpath(c.path) == real), None)
    listed = ", ".join(f"{c.path} '{c.name}'" for c in cameras)
    if chosen is None:
        return Check(
            name,
            FAIL,
            f"--device {device} is not a camera here; cameras: {listed}",
            (f"sharpcam start --device {cameras[0].path}   (or set device in the config file)",),
        )
    scan = devices.find_openers(chosen.path, paths.proc, exclude_pids)
    theirs = [o for o in scan.openers if not _is_sharpcam(o)]
    if theirs:
        return Check(
            name,
            WARN,
            f"{chosen.path} '{chosen.name}' is in use by {_describe(theirs)}; most webcams serve one app at a time",
            ("close that app, or let it read 'SharpCam' instead of the camera",),
        )
    if chosen.error:
        return Check(name, WARN, f"{chosen.path} '{chosen.name}': {chosen.error}", ("sharpcam devices",))
    return Check(name, OK, f"{chosen.path} '{chosen.name}'" + (f" (also: {listed})" if len(cameras) > 1 else ""))


def turbojpeg_available() -> bool:
    from vcam.jpeg import TurboJpegI420

    return TurboJpegI420.load() is not None


def check_mjpeg_decoder(available: bool, mjpeg_yuv: bool) -> Check:
    """Can MJPG cameras be decoded straight to YUV (vcam/jpeg.py), or do they take OpenCV's BGR route?"""
    name = "MJPG decoding"
    if not mjpeg_yuv:
        return Check(name, OK, "through OpenCV's BGR decode (mjpeg_yuv is off)")
    if available:
        return Check(name, OK, "libturbojpeg: MJPG cameras go straight to YUV")
    return Check(name, WARN, "libturbojpeg is not installed: MJPG cameras take OpenCV's BGR decode "
                 "(~2.5 ms more CPU a 720p frame)", ("sudo apt install libturbojpeg0   (Fedora: turbojpeg)",))


def check_model(model: str, provider: str) -> Check:
    """Does the configured model load and pass its card checks (sha256, I/O contract)?"""
    name = "model"
    try:
        from vcam import engine  # lazy: onnxruntime is slow to import and only this check needs it
        from vcam.config import SharpCamError
    except ImportError as exc:
        return Check(name, FAIL, f"the model runtime cannot be imported ({exc})", ("pip install --force-reinstall sharpcam",))
    try:
        loaded = engine.load_engine(model, provider, 1)
    except SharpCamError as exc:
        return Check(name, FAIL, str(exc))
    except ImportError as exc:
        return Check(name, FAIL, f"onnxruntime cannot be imported ({exc})", ("pip install onnxruntime",))
    if loaded is None:
        return Check(name, OK, f"--model {model}: no model, frames pass through")
    card = loaded.card
    files = card.onnx_path.name
    if loaded.alternate is not None:  # a model pair: both files were verified
        files += f" and {loaded.alternate.card.onnx_path.name} for blocky streams"
    if loaded.blurred is not None:
        kind = ("lens-blurred" if card.blur is not None and card.blur.lens_only is not None else
                "up-scaled" if card.blur is not None and card.blur.upscaled_only else "strongly blurred")
        files += f" and {loaded.blurred.card.onnx_path.name} for {kind} frames"
    return Check(name, OK, f"{card.name} ({files}, sha256 verified) runs on {provider}")


def check_service(unit_path: Path, paths: SystemPaths) -> Check:
    """Is the background service installed (optional), and will its sandbox work here?"""
    from vcam.service import user_namespace_restriction

    name = "background service"
    restriction = user_namespace_restriction(paths.proc)
    if not unit_path.exists():
        return Check(name, OK, "not installed (optional: sharpcam service install)")
    text = _read(unit_path) or ""
    if restriction and "ProtectSystem=" in text:
        return Check(
            name,
            FAIL,
            f"{unit_path} uses namespace sandboxing but {restriction}: it fails at step USER",
            ("sharpcam service install   (reinstalling leaves that block out here)",),
        )
    return Check(name, OK, f"installed ({unit_path}); sharpcam service status")


def run_checks(
    paths: SystemPaths,
    user: UserInfo,
    model: str,
    provider: str,
    device: str,
    unit_path: Path,
    kernel_log: Callable[[], str | None] = read_kernel_log,
    probe: Probe = devices.probe_device,
    exclude_pids: Sequence[int] = (),
    mjpeg_yuv: bool = True,
    turbojpeg: Callable[[], bool] = turbojpeg_available,
) -> tuple[Check, ...]:
    """All checks in the order a user should fix them."""
    found: Discovery = devices.discover(paths.sys, paths.dev, probe)
    loaded = module_loaded(paths)
    results = [
        check_module(paths),
        # Reading the kernel log is slow and often needs root: only when the module is missing.
        check_secure_boot(paths, None if loaded else kernel_log()),
        check_persistence(paths),
        check_virtual_camera(paths, found.loopbacks),
        check_permissions(user, [d.path for d in found.loopbacks] + [c.path for c in found.cameras]),
        check_virtual_camera_users(paths, found.loopbacks, exclude_pids),
        check_camera(paths, found.cameras, device, exclude_pids),
        check_mjpeg_decoder(mjpeg_yuv and turbojpeg(), mjpeg_yuv),
        check_model(model, provider),
        check_service(unit_path, paths),
    ]
    return tuple(results)


def format_checks(checks: Sequence[Check]) -> str:
    """The human-readable report: `STATUS name: summary`, fixes indented under it."""
    lines = []
    for check in checks:
        lines.append(f"{check.status:<4}  {check.name}: {check.summary}")
        for fix in check.fixes:
            lines.append(f"        fix: {fix}")
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    lines.append(f"{failed} problem(s), {warned} warning(s)" if failed or warned else "everything looks fine")
    return "\n".join(lines)


@click.command("doctor")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML settings file whose device and model to check (default: sharpcam --config).")
@click.option("--device", default=None, envvar="SHARPCAM_DEVICE", help="Camera to check (default: the configured one).")
@click.option("--model", default=None, envvar="SHARPCAM_MODEL", help="Model to check (default: the configured one).")
@click.option("--provider", default=None, envvar="SHARPCAM_PROVIDER", help="inference provider to check the model with.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def doctor_command(
    ctx: click.Context,
    config_file: Path | None,
    device: str | None,
    model: str | None,
    provider: str | None,
    as_json: bool,
) -> None:
    """Check the virtual camera, camera, permissions and model; print the fix for each problem.

    Exit code 1 when a check FAILs.
    """
    from vcam.config import SharpCamError, build_config
    from vcam.service import UNIT_NAME, unit_dir

    if config_file is None and isinstance(ctx.find_root().obj, dict):
        config_file = ctx.find_root().obj.get("config")  # `sharpcam --config FILE doctor`
    overrides = {k: v for k, v in (("device", device), ("model", model), ("provider", provider)) if v is not None}
    try:
        settings = build_config(config_file, overrides)
    except SharpCamError as exc:
        raise click.ClickException(str(exc)) from None
    checks = run_checks(
        SystemPaths(),
        current_user(),
        model=settings.model,
        provider=settings.provider,
        device=settings.device,
        unit_path=unit_dir() / UNIT_NAME,
        exclude_pids=(os.getpid(),),
        mjpeg_yuv=settings.mjpeg_yuv,
    )
    if as_json:
        failed = any(c.status == FAIL for c in checks)
        click.echo(json.dumps({"ok": not failed, "checks": [dataclasses.asdict(c) for c in checks]}, indent=2))
    else:
        click.echo(format_checks(checks))
    if any(c.status == FAIL for c in checks):
        ctx.exit(1)
