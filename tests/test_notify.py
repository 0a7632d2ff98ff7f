"""sd_notify through a real AF_UNIX datagram socket, as systemd's NOTIFY_SOCKET would be."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vcam.notify import DEFAULT_WATCHDOG_INTERVAL_S, SdNotify

REPO = Path(__file__).resolve().parents[1]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """(socket path, bound non-blocking datagram socket) standing in for systemd."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield path, sock
    sock.close()


def received(sock: socket.socket) -> list[bytes]:
    """Every datagram queued on `sock` (datagrams are delivered synchronously on AF_UNIX)."""
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096))
        except BlockingIOError:
            return messages


def test_ready_status_stopping_reach_the_socket(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    with SdNotify.from_env({"NOTIFY_SOCKET": path}) as notify:
        assert notify.enabled
        assert notify.status("starting: loading model\nsecond line")
        assert notify.ready()
        assert notify.stopping()
    assert received(sock) == [b"STATUS=starting: loading model second line", b"READY=1", b"STOPPING=1"]


def test_abstract_socket_address() -> None:
    name = f"sharpcam-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.setblocking(False)
    try:
        with SdNotify.from_env({"NOTIFY_SOCKET": "@" + name}) as notify:
            assert notify.ready()
        assert received(sock) == [b"READY=1"]
    finally:
        sock.close()


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notify = SdNotify.from_env({})
    assert not notify.enabled
    assert not notify.ready()
    assert not notify.watchdog()
    assert not notify.status("x")
    assert not notify.stopping()


def test_vanished_socket_never_raises(tmp_path: Path) -> None:
    notify = SdNotify.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert notify.enabled
    assert not notify.ready()
    assert not notify.watchdog()


def test_watchdog_interval_from_environment() -> None:
    assert SdNotify.from_env({"WATCHDOG_USEC": "10000000"}).watchdog_interval_s == 5.0
    other_pid = {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert SdNotify.from_env(other_pid).watchdog_interval_s == DEFAULT_WATCHDOG_INTERVAL_S
    ours = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    assert SdNotify.from_env(ours).watchdog_interval_s == 2.0
    assert SdNotify.from_env({"WATCHDOG_USEC": "junk"}).watchdog_interval_s == DEFAULT_WATCHDOG_INTERVAL_S


def test_watchdog_rate_limit(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    clock = FakeClock()
    notify = SdNotify.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}, clock=clock)
    assert notify.watchdog_interval_s == 1.0
    sent = []
    for _tick in range(90):  # 3 s of a 30 fps frame loop
        sent.append(notify.watchdog())
        clock.advance(1 / 30)
    assert received(sock) == [b"WATCHDOG=1"] * 3
    assert sum(sent) == 3


def frame_loop(notify: SdNotify, clock: FakeClock, frames: int, fps: float = 30.0) -> None:
    """The daemon's publish loop, reduced to what matters here: one watchdog() per published frame."""
    for _frame in range(frames):
        notify.watchdog()
        clock.advance(1.0 / fps)


def test_hung_frame_loop_stops_the_watchdog_pings(listener: tuple[str, socket.socket]) -> None:
    """systemd kills the service when no WATCHDOG=1 arrives within WatchdogSec (10 s here)."""
    path, sock = listener
    watchdog_sec = 10.0
    clock = FakeClock()
    notify = SdNotify.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(int(watchdog_sec * 1e6))}, clock=clock)

    frame_loop(notify, clock, frames=30 * 20)  # 20 s of healthy frames
    healthy = received(sock)
    assert healthy and set(healthy) == {b"WATCHDOG=1"}
    assert len(healthy) == 4  # every WatchdogSec/2 = 5 s: at 0, 5, 10, 15 s

    # The loop hangs (e.g. stuck in a driver call): time passes, nobody calls watchdog().
    clock.advance(3 * watchdog_sec)
    assert received(sock) == []

    # Recovery: the next published frame pings at once, the interval having long passed.
    frame_loop(notify, clock, frames=1)
    assert received(sock) == [b"WATCHDOG=1"]


def test_from_env_in_a_child_process(listener: tuple[str, socket.socket]) -> None:
    """The daemon reads NOTIFY_SOCKET from its own environment, as under systemd."""
    path, sock = listener
    code = "from vcam.notify import SdNotify; n = SdNotify.from_env(); n.ready(); n.watchdog(); n.stopping()"
    env = {**os.environ, "NOTIFY_SOCKET": path, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    assert received(sock) == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]
