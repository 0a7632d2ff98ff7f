"""`sharpcam service install|uninstall|status`: SharpCam as a systemd *user* service.

The unit text lives here (the single source; systemd/sharpcam.service in the repository is
`render_unit()` with the defaults, and a test keeps the two identical), because a `pip install`
carries this module but not the repository's systemd/ folder. `install` rewrites ExecStart= to
the real sharpcam program and the user's settings, writes the unit atomically to
$XDG_CONFIG_HOME/systemd/user/sharpcam.service and enables it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click


if TYPE_CHECKING:
    from vcam.config import DaemonConfig

UNIT_NAME: Final[str] = "sharpcam.service"
# What the shipped unit runs: `pip install --user .` and pipx put the program here.
# --wait-for-camera: a login service starts before the webcam may be plugged in; the daemon then
# publishes its placeholder and keeps reopening instead of failing into a restart loop.
DEFAULT_EXEC_START: Final[tuple[str, ...]] = ("%h/.local/bin/sharpcam", "start", "--wait-for-camera")
SYSTEMCTL_TIMEOUT_S: Final[float] = 30.0

_UNIT_HEAD: Final[str] = """\
# SharpCam: the webcam, sharpened by a small CNN, published as the "SharpCam" virtual camera.
# A systemd *user* unit. `sharpcam service install` writes it to
# ~/.config/systemd/user/sharpcam.service with ExecStart= pointing at your sharpcam and settings.
# Needs the v4l2loopback module (systemd/v4l2loopback.conf, systemd/sharpcam-modules.conf);
# `sharpcam doctor` checks everything and prints the fix for each problem.
[Unit]
Description=SharpCam virtual camera (CNN-sharpened webcam)
# No dependency on the camera device: it may be plugged in later. The daemon publishes a
# "camera disconnected" frame meanwhile and keeps reopening the camera.
# Keep restarting however often it fails (e.g. v4l2loopback not loaded yet at login).
StartLimitIntervalSec=0

[Service]
# READY=1 comes after the first frame is published; WATCHDOG=1 comes from the frame loop,
# so a hung loop is killed and restarted after WatchdogSec.
Type=notify
NotifyAccess=main
"""

_UNIT_SERVICE_TAIL: Final[str] = """\
# SIGHUP reloads the config and model without closing the virtual camera.
ExecReload=kill -HUP $MAINPID
WatchdogSec=10
# Model loading and opening the devices; a missing camera does not delay READY=1.
TimeoutStartSec=60
# SIGTERM stops the daemon within 1 s; this is only the backstop.
TimeoutStopSec=10
Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1
SyslogIdentifier=sharpcam
"""

# These need no namespaces, only seccomp with NoNewPrivileges, so they work in any user unit.
# Not used, on purpose: DeviceAllow=/DevicePolicy= (the user manager cannot attach the cgroup
# device filter and silently ignores them; /dev/video* access comes from the `video` group),
# PrivateDevices= (would hide /dev/video*), PrivateNetwork= (AF_UNIX-only already covers it),
# CapabilityBoundingSet= (an unprivileged manager cannot change the bounding set).
_HARDENING_SECCOMP: Final[str] = """\
# Hardening (works in a user unit without user namespaces).
NoNewPrivileges=yes
# sd_notify and an optional control socket only; no network listener, no network at all.
RestrictAddressFamilies=AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
UMask=0077
"""

# onnxruntime's CPU provider, OpenCV and numpy run under PR_SET_MDWE (checked); JIT-compiling
# providers (OpenVINO, CUDA PTX) need writable+executable memory, so install drops it for them.
_HARDENING_MDWE: Final[str] = """\
MemoryDenyWriteExecute=yes
"""

# These need a mount/UTS namespace; in a user unit systemd implies PrivateUsers=yes for them,
# which needs unprivileged user namespaces. Where the kernel forbids those (Ubuntu 24.04's
# AppArmor restriction, user.max_user_namespaces=0), the unit would fail at step USER, so
# `sharpcam service install` leaves this block out there and says so.
_HARDENING_NAMESPACES: Final[str] = """\
# Hardening that needs unprivileged user namespaces. systemd >= 253 implies PrivateUsers=yes
# for these in a user unit; saying it makes older ones (which silently skip them) apply them too.
# Access to /dev/video* through the `video` group still works inside the namespace.
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
# The runtime directory stays writable for an optional control socket ($XDG_RUNTIME_DIR);
# "-": no failure where it does not exist inside the sandbox.
ReadWritePaths=-%t
"""

_UNIT_INSTALL: Final[str] = """\

[Install]
WantedBy=default.target
"""

# Providers that generate machine code at run time (need W+X memory).
_JIT_PROVIDERS: Final[frozenset[str]] = frozenset({"openvino", "cuda", "tensorrt", "rocm", "migraphx"})

class ServiceError(click.ClickException):
    """A one-line failure of a `sharpcam service` command, printed like every other sharpcam error
    (`sharpcam: error: ...`, exit 1) rather than as click's `Error: ...`."""

    def show(self, file=None) -> None:
        click.echo(f"sharpcam: error: {self.format_message()}", err=True)


_PLAIN_ARG: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9_@%$+=:,./-]+$")


def systemd_quote(arg: str) -> str:
    """Quotes one ExecStart= argument so systemd passes it through unchanged.

    `%` becomes `%%` (specifiers) and `$` becomes `$$` (variable expansion) even in plain
    arguments; anything outside a safe character set is double-quoted with C escapes.
    """
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if escaped and _PLAIN_ARG.match(escaped):
        return escaped
    escaped = escaped.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _environment_line(name: str, value: str) -> str:
    """One Environment= line; systemd expands % specifiers there, not $ variables."""
    text = f"{name}={value}".replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'Environment="{text}"\n'


def render_unit(
    exec_start: Sequence[str] = DEFAULT_EXEC_START,
    environment: Sequence[tuple[str, str]] = (),
    namespace_sandbox: bool = True,
    deny_write_execute: bool = True,
) -> str:
    """The unit file text.

    Args:
        exec_start: program and arguments; the default line is written unquoted (it holds the
            `%h` specifier on purpose), any other is quoted argument by argument.
        environment: extra (NAME, value) pairs, e.g. the user's SHARPCAM_* settings.
        namespace_sandbox: include ProtectSystem=/ProtectHome=/PrivateTmp=... (needs user namespaces).
        deny_write_execute: include MemoryDenyWriteExecute=yes (off for JIT providers).
    """
    if tuple(exec_start) == DEFAULT_EXEC_START:
        exec_line = " ".join(DEFAULT_EXEC_START)
    else:
        exec_line = " ".join(systemd_quote(a) for a in exec_start)
    parts = [_UNIT_HEAD, f"ExecStart={exec_line}\n", _UNIT_SERVICE_TAIL]
    parts.extend(_environment_line(name, value) for name, value in environment)
    parts.append("\n")
    parts.append(_HARDENING_SECCOMP)
    if deny_write_execute:
        parts.append(_HARDENING_MDWE)
    if namespace_sandbox:
        parts.append("\n")
        parts.append(_HARDENING_NAMESPACES)
    parts.append(_UNIT_INSTALL)
    return "".join(parts)


def user_namespace_restriction(proc_root: Path = Path("/proc")) -> str | None:
    """Why unprivileged user namespaces are unavailable here, or None when they are available."""
    checks = (
        ("sys/kernel/apparmor_restrict_unprivileged_userns", "1", "AppArmor restricts unprivileged user namespaces"),
        ("sys/user/max_user_namespaces", "0", "user.max_user_namespaces is 0"),
        ("sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone is 0"),
    )
    for relative, blocked_value, reason in checks:
        try:
            value = (proc_root / relative).read_text().strip()
        except OSError:
            continue
        if value == blocked_value:
            return f"{reason} (/proc/{relative} = {value})"
    return None


def unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user)."""
    env = os.environ if environ is None else environ
    config_home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config_home) / "systemd" / "user"


def write_atomic(path: Path, text: str) -> None:
    """Writes `path` via `path.partial` + fsync + rename, so no half-written unit is ever seen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)
    finally:
        partial.unlink(missing_ok=True)


def find_sharpcam_executable() -> Path | None:
    """The sharpcam program to run: the one running now if it is the entry script, else PATH's."""
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name == "sharpcam" and running.exists():
        return running.resolve()
    found = shutil.which("sharpcam")
    return Path(found).resolve() if found else None


def run_systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    """`systemctl --user ARGS`; raises FileNotFoundError when systemctl is missing."""
    return subprocess.run(
        ["systemctl", "--user", *args],
        capture_output=True,
        text=True,
        timeout=SYSTEMCTL_TIMEOUT_S,
        check=False,
    )


_NO_USER_MANAGER_HINT: Final[str] = (
    "no systemd user session here (log in normally rather than via su/sudo, or run "
    "`loginctl enable-linger $USER`), then: systemctl --user daemon-reload && "
    "systemctl --user enable --now sharpcam.service"
)


def _systemctl_or_fail(*args: str, what: str) -> subprocess.CompletedProcess[str]:
    try:
        result = run_systemctl(*args)
    except FileNotFoundError:
        raise ServiceError(f"{what}: systemctl not found (systemd is not installed or not in PATH)") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{what}: `systemctl --user {' '.join(args)}` timed out") from None
    if result.returncode != 0:
        detail = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        # `enable --now` prints "Created symlink ..." before "Job for ... failed": report the failure.
        line = next((d for d in detail if "fail" in d.lower() or "bus" in d.lower()), detail[-1] if detail else "")
        line = line or f"exit code {result.returncode}"
        if "bus" in line.lower() or "XDG_RUNTIME_DIR" in line:
            raise ServiceError(f"{what}: {line}; {_NO_USER_MANAGER_HINT}")
        raise ServiceError(
            f"{what}: `systemctl --user {' '.join(args)}` failed: {line} "
            "(see: journalctl --user -u sharpcam -n 30; sharpcam doctor)"
        )
    return result


def _effective_settings(config_file: Path | None, start_args: Sequence[str]) -> "DaemonConfig":
    """The DaemonConfig `sharpcam [--config FILE] start ARGS` would run with.

    Raises a one-line ServiceError for options `start` does not know or values DaemonConfig
    refuses, so a broken unit is never written."""
    from vcam.config import SharpCamError
    from vcam.options import parse_start_args

    try:
        return parse_start_args(config_file, start_args)
    except click.ClickException as exc:
        raise ServiceError(f"invalid settings for the service: {exc.format_message()}") from None
    except SharpCamError as exc:
        raise ServiceError(f"invalid settings for the service: {exc}") from None


@click.group("service")
def service_group() -> None:
    """Run SharpCam in the background as a systemd user service."""


@service_group.command("install")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML settings file the service reads (made absolute; default: sharpcam --config / SHARPCAM_CONFIG).")
@click.option("--device", default=None, help="Camera for the service: index, /dev/videoN or /dev/v4l/by-id/... name.")
@click.option("--model", default=None, help="Model name or .onnx/.json path for the service.")
@click.option("--output-device", default=None, help="Virtual camera, e.g. /dev/video10 (default: the one labelled SharpCam).")
@click.option("--executable", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="sharpcam program the service runs (default: this one).")
@click.option("--enable/--no-enable", default=True, show_default=True,
              help="Run `systemctl --user daemon-reload` and `enable --now`; --no-enable only writes the unit.")
@click.option("--sandbox/--no-sandbox", default=None,
              help="Namespace hardening (ProtectSystem=, ProtectHome=, PrivateTmp=...); default: on where "
                   "unprivileged user namespaces are available.")
@click.argument("start_args", nargs=-1, type=click.UNPROCESSED)
def install_command(
    config_file: Path | None,
    device: str | None,
    model: str | None,
    output_device: str | None,
    executable: Path | None,
    enable: bool,
    sandbox: bool | None,
    start_args: tuple[str, ...],
) -> None:
    """Write and enable ~/.config/systemd/user/sharpcam.service.

    Extra `sharpcam start` options go after `--`, e.g.
    `sharpcam service install --device 0 -- --strength 0.7`.
    """
    program = executable.resolve() if executable is not None else find_sharpcam_executable()
    if program is None:
        raise ServiceError("cannot find the sharpcam program; install it (`pip install --user .`) or pass --executable PATH")
    if not os.access(program, os.X_OK) or not program.is_file():
        raise ServiceError(f"{program} is not an executable file; pass --executable PATH to the sharpcam program")
    if config_file is None:
        # `sharpcam --config FILE service install` (or SHARPCAM_CONFIG) names it on the group.
        root = click.get_current_context().find_root()
        config_file = (root.obj or {}).get("config") if isinstance(root.obj, dict) else None
    group_args: list[str] = []
    if config_file is not None:
        config_file = Path(config_file).expanduser().resolve()
        if not config_file.is_file():
            raise ServiceError(f"config file {config_file} does not exist; create it or leave out --config")
        group_args = ["--config", str(config_file)]
    args: list[str] = []
    # Relative paths mean nothing to a service started from another directory.
    if device is not None:
        args += ["--device", _absolute_if_exists(device)]
    if model is not None:
        args += ["--model", _absolute_if_exists(model)]
    if output_device is not None:
        args += ["--output-device", output_device]
    args += list(start_args)
    if not any(a in ("--wait-for-camera", "--no-wait-for-camera") for a in args):
        args.append("--wait-for-camera")
    settings = _effective_settings(config_file, args)

    restriction = user_namespace_restriction()
    use_namespaces = (restriction is None) if sandbox is None else sandbox
    if use_namespaces:
        _refuse_private_tmp_paths([program, config_file, settings.model, settings.device])
    provider = settings.provider
    jit = provider.lower() in _JIT_PROVIDERS
    # The service does not see the login shell's environment: carry the SHARPCAM_* settings over.
    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith("SHARPCAM_") and k != "SHARPCAM_CONFIG")
    for name, value in environment:
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            # A newline would end the Environment= line and start a directive of the value's choosing.
            raise ServiceError(f"{name} holds a control character (newline, tab, ...), which a unit file cannot carry "
                                f"safely: fix or unset {name}, then run `sharpcam service install` again")
    command = (str(program), *group_args, "start", *args)
    text = render_unit(command, environment=environment, namespace_sandbox=use_namespaces, deny_write_execute=not jit)
    path = unit_dir() / UNIT_NAME
    write_atomic(path, text)
    click.echo(f"wrote {path}")
    click.echo(f"  ExecStart={' '.join(systemd_quote(a) for a in command)}")
    for name, value in environment:
        click.echo(f"  Environment={name}={value}")
    if not use_namespaces:
        reason = restriction or "--no-sandbox"
        click.echo(f"  namespace hardening left out: {reason}")
    if jit:
        click.echo(f"  MemoryDenyWriteExecute left out: provider {provider} compiles code at run time")
    if not enable:
        click.echo("not enabled (--no-enable); to start it: systemctl --user daemon-reload && systemctl --user enable --now sharpcam.service")
        return
    _systemctl_or_fail("daemon-reload", what="unit written but not enabled")
    _systemctl_or_fail("enable", "--now", UNIT_NAME, what="unit written but not enabled")
    click.echo("enabled and started; follow it with: journalctl --user -u sharpcam -f")


_PRIVATE_TMP_DIRS: Final[tuple[str, ...]] = ("/tmp", "/var/tmp")


def _refuse_private_tmp_paths(candidates: Sequence[Path | str | None]) -> None:
    """PrivateTmp=yes gives the service its own empty /tmp and /var/tmp: files there are invisible."""
    for candidate in candidates:
        if candidate is None:
            continue
        path = Path(candidate).expanduser()
        if not path.is_absolute() or not path.exists():
            continue  # a model name, a camera index
        resolved = str(path.resolve())
        if any(resolved == d or resolved.startswith(d + "/") for d in _PRIVATE_TMP_DIRS):
            raise ServiceError(
                f"{resolved} is under /tmp or /var/tmp, which the service cannot see (PrivateTmp=yes): "
                "move it elsewhere, or install with --no-sandbox"
            )


def _absolute_if_exists(value: str) -> str:
    """An existing file or folder named relatively becomes absolute; names and indexes stay as given."""
    path = Path(value).expanduser()
    if value.isdigit() or path.is_absolute() or not path.exists():
        return value
    return str(path.resolve())


@service_group.command("uninstall")
def uninstall_command() -> None:
    """Stop, disable and remove the SharpCam user service."""
    path = unit_dir() / UNIT_NAME
    if not path.exists():
        click.echo(f"not installed ({path} does not exist)")
        return
    try:
        # Failing to disable (no user session) must not keep the file around.
        run_systemctl("disable", "--now", UNIT_NAME)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass
    path.unlink()
    click.echo(f"removed {path}")
    try:
        run_systemctl("daemon-reload")
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass


@service_group.command("status")
def status_command() -> None:
    """Show `systemctl --user status sharpcam` (exit code 3 when the service is not running)."""
    path = unit_dir() / UNIT_NAME
    if not path.exists():
        raise ServiceError(f"the service is not installed ({path} does not exist); run: sharpcam service install")
    click.echo(f"unit: {path}")
    try:
        result = run_systemctl("status", "--no-pager", "--lines=10", UNIT_NAME)
    except FileNotFoundError:
        raise ServiceError("systemctl not found (systemd is not installed or not in PATH)") from None
    except subprocess.TimeoutExpired:
        raise ServiceError("`systemctl --user status` timed out") from None
    output = (result.stdout + result.stderr).rstrip()
    if output:
        click.echo(output)
    if "bus" in result.stderr.lower():
        raise ServiceError(_NO_USER_MANAGER_HINT)
    if result.returncode != 0:
        sys.exit(result.returncode)
