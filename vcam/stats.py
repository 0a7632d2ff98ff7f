"""Per-stage timings, counters and latency of the running pipeline, and the stats line made of them."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from vcam.mailbox import Mailbox

STAGES = ("capture", "pre", "infer", "post", "publish")


class StageTimer:
    """Running sums of one stage's wall time and thread CPU time (seconds) since the last reset.

    Wall time is what a frame waits; CPU time is the work itself, which stays meaningful on a
    machine shared with other busy processes.
    """

    __slots__ = ("total", "cpu", "count", "_wall0", "_cpu0")

    def __init__(self) -> None:
        self.total = 0.0
        self.cpu = 0.0
        self.count = 0
        self._wall0 = 0.0
        self._cpu0 = 0.0

    def start(self) -> None:
        """Marks the start of one frame's work (call from the stage's own thread)."""
        self._wall0 = time.perf_counter()
        self._cpu0 = time.thread_time()

    def stop(self) -> None:
        """Adds the time since start()."""
        self.total += time.perf_counter() - self._wall0
        self.cpu += time.thread_time() - self._cpu0
        self.count += 1

    def mean_ms(self) -> float:
        return 1000.0 * self.total / self.count if self.count else 0.0

    def mean_cpu_ms(self) -> float:
        return 1000.0 * self.cpu / self.count if self.count else 0.0


class LatencyRing:
    """The last `size` capture-to-publish latencies (seconds) in a preallocated ring."""

    def __init__(self, size: int = 2048) -> None:
        self._values = np.zeros(size, np.float64)
        self._n = 0

    def add(self, seconds: float) -> None:
        self._values[self._n % self._values.size] = seconds
        self._n += 1

    def percentiles_ms(self) -> tuple[float, float]:
        n = min(self._n, self._values.size)
        if n == 0:
            return (math.nan, math.nan)
        p50, p95 = np.percentile(self._values[:n], [50, 95])
        return (1000.0 * float(p50), 1000.0 * float(p95))

    def reset(self) -> None:
        self._n = 0


@dataclasses.dataclass
class Counters:
    captured: int = 0
    published: int = 0  # everything sent, repeats and placeholders included
    fresh: int = 0  # new frames sent
    repeated: int = 0  # the last frame sent again because no new one came in time
    placeholders: int = 0  # "camera disconnected" / "paused" frames sent
    skipped: int = 0  # camera frames left out on purpose because --output-fps is below the camera's rate
    reconnects: int = 0


def rss_bytes() -> int:
    """This process's resident memory in bytes (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Stats:
    """Per-stage timers, counters and latencies; `snapshot` turns them into one report."""

    def __init__(self, mailboxes: list[Mailbox[Any]], clock: Callable[[], float] = time.monotonic) -> None:
        self.timers = {name: StageTimer() for name in STAGES}
        self.counters = Counters()
        self.latency = LatencyRing()
        self._mailboxes = mailboxes
        self._clock = clock
        self._since = clock()
        self._base = Counters()
        self._dropped_base = 0
        self.max_gap = 0.0  # longest time between two published frames (seconds)
        self._rss_base = rss_bytes()
        self._cpu_base = (time.process_time(), time.monotonic())

    def dropped(self) -> int:
        return sum(m.dropped for m in self._mailboxes)

    def reset(self) -> None:
        """Starts a new measurement window (counters stay cumulative, the window subtracts them)."""
        for timer in self.timers.values():
            timer.total, timer.cpu, timer.count = 0.0, 0.0, 0
        self.latency.reset()
        self._since = self._clock()
        self._base = dataclasses.replace(self.counters)
        self._dropped_base = self.dropped()
        self.max_gap = 0.0
        self._rss_base = rss_bytes()
        self._cpu_base = (time.process_time(), time.monotonic())

    def snapshot(self) -> dict[str, Any]:
        """Figures for the window since the last reset: rates in fps, times in ms."""
        elapsed = max(1e-9, self._clock() - self._since)
        c, b = self.counters, self._base
        p50, p95 = self.latency.percentiles_ms()
        rss = rss_bytes()
        cpu0, wall0 = self._cpu_base
        return {
            "seconds": elapsed,
            # the whole process (every thread, the model's included), in cores: what a user's CPU meter shows
            "cpu_cores": (time.process_time() - cpu0) / max(1e-9, time.monotonic() - wall0),
            "fps_in": (c.captured - b.captured) / elapsed,
            "fps_out": (c.published - b.published) / elapsed,
            "fps_fresh": (c.fresh - b.fresh) / elapsed,
            "stage_ms": {name: t.mean_ms() for name, t in self.timers.items()},
            "stage_cpu_ms": {name: t.mean_cpu_ms() for name, t in self.timers.items()},
            "dropped": self.dropped() - self._dropped_base,
            "repeated": c.repeated - b.repeated,
            "placeholders": c.placeholders - b.placeholders,
            "skipped": c.skipped - b.skipped,
            "latency_p50_ms": p50,
            "latency_p95_ms": p95,
            "frames_out": c.fresh - b.fresh,
            "max_gap_ms": 1000.0 * self.max_gap,
            "rss_mb": rss / 2**20,
            "rss_growth_mb": (rss - self._rss_base) / 2**20,
        }


def format_stats(snap: dict[str, Any]) -> str:
    """One stats line: fps in/out, per-stage ms, dropped/repeated frames, latency p50/p95."""
    stages = " ".join(f"{name} {ms:.1f}" for name, ms in snap["stage_ms"].items())
    return (
        f"in {snap['fps_in']:.1f} fps, out {snap['fps_out']:.1f} fps ({snap['fps_fresh']:.1f} new) | "
        f"{stages} ms | dropped {snap['dropped']} repeated {snap['repeated']} placeholder {snap['placeholders']} | "
        f"latency p50 {snap['latency_p50_ms']:.0f} p95 {snap['latency_p95_ms']:.0f} ms | CPU {100 * snap['cpu_cores']:.0f}%"
        + (f" | skipped {snap['skipped']} (--output-fps)" if snap["skipped"] else "")
    )
