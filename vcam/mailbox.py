"""Hand-off between pipeline stages: preallocated buffer slots and single-slot mailboxes.

A stage takes a free `Slot` from its own `SlotPool`, fills the slot's preallocated arrays and
`put`s it into the next stage's `Mailbox`. The mailbox holds one slot: a newer one replaces an
unread older one ("latest wins", counted as dropped) and the older one goes back to its pool.
Nothing queues up, so a slow stage costs freshness, never memory or latency.

A slot may `carry` an upstream slot whose arrays a later stage still reads (postprocess reads the
input tensor that preprocess wrote); releasing a slot releases what it carries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np


class Slot:
    """One set of preallocated arrays travelling through the pipeline.

    Attributes:
        arrays: name -> preallocated ndarray (shapes/dtypes fixed by the owning pool).
        seq: frame sequence number given by the capture stage (monotonic, starts at 1).
        t_capture: time.monotonic() when the frame was captured (seconds).
        carried: an upstream slot kept alive until this one is released, or None.
        tag: whatever the producer wants the consumer to know (the pipeline puts the
            FrameProcessor that filled the slot here), reset on acquire.
        variant: which of a card's models the frame goes to (vcam.engine.VARIANT_*: 0 the card's own,
            1 its switch's alternate, 2 its blur model; vcam/detect.py), or -1 (vcam.processor.PASS_THROUGH: a sharp frame the card's
            gate leaves untouched, no model run), set by the pre stage, reset on acquire.
        share: the share of the model's change the frame keeps (a card's strength ramp, vcam/detect.py StrengthRamp;
            1.0 without one), set by the pre stage, reset on acquire.
    """

    __slots__ = ("pool", "arrays", "seq", "t_capture", "carried", "tag", "variant", "share", "_refs")

    def __init__(self, pool: "SlotPool", arrays: dict[str, np.ndarray]) -> None:
        self.pool = pool
        self.arrays = arrays
        self.seq = 0
        self.t_capture = 0.0
        self.carried: Slot | None = None
        self.tag: object = None
        self.variant = 0
        self.share = 1.0
        self._refs = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def release(self) -> None:
        """Hands the slot (and whatever it carries) back to its pool."""
        self.pool._release(self)


class PoolExhausted(RuntimeError):
    """More slots in flight than the pool was sized for: a pipeline bug, never a user error."""


class SlotPool:
    """A fixed number of slots allocated once by `make()`; acquire/release never allocate arrays.

    Size it as the number of places a slot can be at once (producer, mailbox, consumer, and
    any downstream slot carrying it) so that `acquire` always finds one free. The arrays are
    written once here so that their pages are resident from the start (steady RSS).
    """

    def __init__(self, count: int, make: Callable[[], dict[str, np.ndarray]], name: str = "pool") -> None:
        self.name = name
        self._cond = threading.Condition()
        self._free: list[Slot] = []
        for _ in range(count):
            arrays = make()
            for array in arrays.values():
                array.fill(0)
            self._free.append(Slot(self, arrays))
        self.count = count

    def acquire(self, timeout: float = 1.0) -> Slot:
        """A free slot (seq/t_capture/carried/tag reset), waiting up to `timeout` s for one."""
        with self._cond:
            if not self._free:
                deadline = time.monotonic() + timeout
                while not self._free:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolExhausted(f"{self.name}: all {self.count} slots in use")
                    self._cond.wait(remaining)
            slot = self._free.pop()
            slot._refs = 1
            slot.carried = None
            slot.tag = None
            slot.variant = 0
            slot.share = 1.0
            slot.seq = 0
            slot.t_capture = 0.0
            return slot

    def free_count(self) -> int:
        with self._cond:
            return len(self._free)

    def _release(self, slot: Slot) -> None:
        carried = None
        with self._cond:
            if slot._refs <= 0:
                return  # already back in the pool: releasing twice is harmless
            slot._refs = 0
            carried, slot.carried = slot.carried, None
            self._free.append(slot)
            self._cond.notify()
        if carried is not None:
            carried.release()


T = TypeVar("T")


class Mailbox(Generic[T]):
    """A single-slot, sequence-numbered "latest wins" hand-off between two threads.

    `put` never blocks: it replaces any unread item and returns it (the caller releases it).
    `take` waits up to `timeout` for an item, removes and returns it.
    """

    def __init__(self, name: str = "mailbox") -> None:
        self.name = name
        self._cond = threading.Condition()
        self._item: T | None = None
        self.put_count = 0  # items ever put
        self.dropped = 0  # items replaced before anyone took them

    def put(self, item: T) -> T | None:
        """Stores `item`; returns the unread item it replaced (or None)."""
        with self._cond:
            replaced = self._item
            self._item = item
            self.put_count += 1
            if replaced is not None:
                self.dropped += 1
            self._cond.notify_all()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """The current item (removing it), waiting up to `timeout` seconds; None if none came."""
        with self._cond:
            if self._item is None and timeout != 0:
                if timeout is None:
                    while self._item is None:
                        self._cond.wait()
                else:
                    deadline = time.monotonic() + timeout
                    while self._item is None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self._cond.wait(remaining)
            item, self._item = self._item, None
            if item is not None:
                self._cond.notify_all()
            return item

    def wait_empty(self, timeout: float) -> bool:
        """Waits until the slot is empty (a consumer took the item); True if it is.

        Used for back-pressure where no frame may be dropped (offline sources in `bench`).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._item is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def clear(self) -> T | None:
        """Removes and returns the unread item, if any (the caller releases it)."""
        with self._cond:
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def wake(self) -> None:
        """Wakes any thread blocked in take()/wait_empty() so it can look at the stop flag."""
        with self._cond:
            self._cond.notify_all()
