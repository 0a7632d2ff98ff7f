"""`sharpcam ctl`: live control of a running daemon over a Unix socket, never a network listener.

The daemon listens on `$XDG_RUNTIME_DIR/sharpcam/control.sock` (folder 0700, socket 0600) and serves
one command per connection, a line of text, with a one-line answer: `ok ...`, `error: ...` or, for
`stats`, JSON. Only the daemon's own user may talk to it: the peer's uid (SO_PEERCRED) is checked on
every connection. Changes apply from the next captured frame; the virtual camera stays open.

    strength X     0..1, as --strength           bypass on|off   publish the camera's frames untouched
    model NAME     a name, card, .onnx or none   stats           the live figures and settings (JSON)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
from pathlib import Path
from typing import Any

from vcam.config import SharpCamError

log = logging.getLogger("sharpcam")

COMMANDS = ("strength", "bypass", "model", "stats")
MAX_REQUEST = 4096  # bytes: a command line is short; anything longer is refused
CLIENT_TIMEOUT_S = 30.0  # `model` loads a model before answering


def socket_path() -> Path:
    """Where the daemon listens: under $XDG_RUNTIME_DIR (the user's, cleared at logout)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/sharpcam-{os.getuid()}"
    return Path(base) / "sharpcam" / "control.sock"


def parse_command(line: str) -> tuple[str, str | None]:
    """`strength 0.6` -> ("strength", "0.6"); SharpCamError (one line, with the fix) when malformed."""
    parts = line.strip().split(maxsplit=1)
    if not parts or parts[0] not in COMMANDS:
        raise SharpCamError(f"unknown command {line.strip()[:40]!r}: use one of {', '.join(COMMANDS)}")
    command, value = parts[0], (parts[1].strip() if len(parts) > 1 else None)
    if command == "stats" and value is not None:
        raise SharpCamError("stats takes no value: sharpcam ctl stats")
    if command != "stats" and not value:
        example = {"strength": "0.6", "bypass": "on", "model": "sharpcam-cs-int8"}[command]
        raise SharpCamError(f"{command} needs a value: e.g. sharpcam ctl {command} {example}")
    if command == "bypass" and value not in ("on", "off"):
        raise SharpCamError(f"bypass {value!r}: use bypass on or bypass off")
    if command == "strength":
        try:
            float(value)  # type: ignore[arg-type]
        except ValueError:
            raise SharpCamError(f"strength {value!r} is not a number: pass 0 (passthrough) up to 1 (full model)") from None
    return command, value


def execute(pipeline: Any, line: str) -> str:
    """Runs one command on the pipeline; the answer line (never raises for a bad command)."""
    try:
        command, value = parse_command(line)
        if command == "stats":
            return json.dumps(pipeline.control_stats())
        if command == "strength":
            pipeline.set_strength(float(value))  # type: ignore[arg-type]
            return f"ok strength {pipeline.cfg.strength:g}"
        if command == "bypass":
            pipeline.set_bypass(value == "on")
            return f"ok bypass {value}"
        name = pipeline.set_model(value)
        return f"ok model {name}"
    except SharpCamError as exc:
        return f"error: {exc}"


class ControlServer:
    """The daemon's side: a thread accepting one command per connection. Use as a context manager."""

    def __init__(self, pipeline: Any, path: Path | None = None, uid: int | None = None) -> None:
        self.pipeline = pipeline
        self.path = path or socket_path()
        self.uid = os.getuid() if uid is None else uid  # the only peer uid served
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "ControlServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Listens, or logs why live control is unavailable: the daemon runs on without it."""
        try:
            self._listen()
        except (OSError, SharpCamError) as exc:
            log.warning("live control unavailable (%s): `sharpcam ctl` cannot reach this daemon", exc)
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _listen(self) -> None:
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid != os.getuid():
            raise SharpCamError(f"{folder} belongs to another user: set XDG_RUNTIME_DIR to your own runtime folder")
        os.chmod(folder, 0o700)
        if self.path.exists():
            if _answers(self.path):
                log.warning("another sharpcam daemon owns %s: `sharpcam ctl` talks to that one", self.path)
                return
            self.path.unlink()  # left by a daemon that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is created 0600: no window where others could connect
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(4)
        sock.settimeout(0.2)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="sharpcam-control", daemon=True)
        self._thread.start()
        log.info("live control: sharpcam ctl strength|bypass|model|stats (socket %s)", self.path)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            with conn:
                try:
                    self._handle(conn)
                except OSError:
                    pass  # the client went away

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        if uid != self.uid:
            log.warning("control: refused a connection from uid %d", uid)
            conn.sendall(f"error: refused: uid {uid} is not this daemon's user\n".encode())
            return
        data = b""
        while b"\n" not in data and len(data) < MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST)
            if not chunk:
                break
            data += chunk
        if len(data) >= MAX_REQUEST:
            conn.sendall(b"error: request too long\n")
            return
        line = data.decode("utf-8", "replace").split("\n", 1)[0]
        answer = execute(self.pipeline, line)
        if not answer.startswith("error"):
            log.info("control: %s -> %s", line.strip()[:80], answer[:80])
        conn.sendall(answer.encode() + b"\n")


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def send_command(line: str, path: Path | None = None) -> str:
    """The client side: one command, its answer line. SharpCamError when no daemon listens."""
    path = path or socket_path()
    parse_command(line)  # refuse a malformed command here, with the same message the daemon would give
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CLIENT_TIMEOUT_S)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise SharpCamError(f"no running sharpcam daemon to control (no socket at {path}): start it with "
                                "`sharpcam start` or `sharpcam service install`") from None
        except PermissionError:
            raise SharpCamError(f"cannot open {path}: it belongs to another user's daemon") from None
        try:
            sock.sendall(line.strip().encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # a daemon that refuses us answers and hangs up before reading: its answer is still queued
        data = b""
        while not data.endswith(b"\n"):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    answer = data.decode("utf-8", "replace").strip()
    if not answer:
        raise SharpCamError(f"the daemon at {path} closed the connection without an answer: see its log")
    return answer
