"""sd_notify for `Type=notify` systemd services, in pure stdlib.

The daemon tells systemd when it is ready (after the first frame is published), pings the
watchdog from the publish loop (so a hung frame loop stops the pings and systemd restarts the
service) and announces its shutdown. Without NOTIFY_SOCKET every call is a cheap no-op, so the
same code runs under systemd, in a terminal and in tests.

Protocol: newline-separated ``KEY=VALUE`` assignments in one datagram on an AF_UNIX SOCK_DGRAM
socket whose path is in NOTIFY_SOCKET; a leading ``@`` means the Linux abstract namespace.
See sd_notify(3).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Final

# The daemon ticks at the output frame rate (30/s); without a watchdog interval from systemd
# this keeps the datagrams to about one a second.
DEFAULT_WATCHDOG_INTERVAL_S: Final[float] = 1.0

_WATCHDOG_MESSAGE: Final[bytes] = b"WATCHDOG=1"


class SdNotify:
    """A connection to systemd's notification socket, or a no-op when there is none.

    Args:
        address: socket path from NOTIFY_SOCKET (``/run/...`` or ``@abstract``), or None for no-op.
        watchdog_interval_s: minimum seconds between two WATCHDOG=1 datagrams (> 0).
        clock: monotonic clock in seconds; injected by tests to drive the rate limit.
    """

    def __init__(
        self,
        address: str | None,
        watchdog_interval_s: float = DEFAULT_WATCHDOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if watchdog_interval_s <= 0:
            raise ValueError(f"watchdog_interval_s must be > 0, got {watchdog_interval_s}")
        self.watchdog_interval_s = watchdog_interval_s
        self._clock = clock
        self._last_watchdog_s: float | None = None
        self._sock: socket.socket | None = None
        self._address: str | bytes | None = None
        if address:
            # Abstract namespace: the leading '@' stands for a NUL byte.
            self._address = "\0" + address[1:] if address.startswith("@") else address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> "SdNotify":
        """Builds the notifier from NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.

        The watchdog interval is half of WATCHDOG_USEC (systemd's advice), used only when
        WATCHDOG_PID is unset or names this process; otherwise about one ping a second.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        interval_s = DEFAULT_WATCHDOG_INTERVAL_S
        usec_text = env.get("WATCHDOG_USEC", "")
        pid_text = env.get("WATCHDOG_PID", "")
        pid_matches = not pid_text or (pid_text.isdigit() and int(pid_text) == os.getpid())
        if usec_text.isdigit() and int(usec_text) > 0 and pid_matches:
            interval_s = int(usec_text) / 1e6 / 2.0
        return cls(address, watchdog_interval_s=interval_s, clock=clock)

    @property
    def enabled(self) -> bool:
        """True when there is a notification socket to talk to."""
        return self._sock is not None

    def notify(self, message: bytes) -> bool:
        """Sends one raw datagram; returns False (never raises) when it could not be sent.

        A vanished systemd socket must never take the camera down, so errors are swallowed.
        """
        if self._sock is None or self._address is None:
            return False
        try:
            self._sock.sendto(message, self._address)
        except OSError:
            return False
        return True

    def ready(self) -> bool:
        """READY=1: the first frame was published; systemd marks the unit started."""
        return self.notify(b"READY=1")

    def watchdog(self) -> bool:
        """WATCHDOG=1, at most once per `watchdog_interval_s`; cheap enough for every frame tick.

        Returns True only when a datagram was sent. Call it from the publish loop, not a side
        thread: if that loop hangs the pings stop and systemd restarts the service.
        """
        if self._sock is None:
            return False
        now_s = self._clock()
        if self._last_watchdog_s is not None and now_s - self._last_watchdog_s < self.watchdog_interval_s:
            return False
        self._last_watchdog_s = now_s
        return self.notify(_WATCHDOG_MESSAGE)

    def stopping(self) -> bool:
        """STOPPING=1: shutdown has begun."""
        return self.notify(b"STOPPING=1")

    def reloading(self) -> bool:
        """RELOADING=1: a SIGHUP reload has begun; follow it with ready() when done."""
        return self.notify(b"RELOADING=1")

    def status(self, text: str) -> bool:
        """STATUS=<text>: one line shown by `systemctl --user status sharpcam`."""
        one_line = " ".join(text.splitlines())
        return self.notify(b"STATUS=" + one_line.encode("utf-8", "replace"))

    def close(self) -> None:
        """Closes the socket; later calls are no-ops."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "SdNotify":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
