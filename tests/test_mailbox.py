"""vcam.mailbox: latest-wins hand-off and preallocated slot pools."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vcam.mailbox import Mailbox, PoolExhausted, SlotPool


def test_latest_wins_and_counts_drops() -> None:
    box: Mailbox[int] = Mailbox()
    assert box.put(1) is None
    assert box.put(2) == 1  # the unread 1 comes back to the caller to release
    assert box.dropped == 1 and box.put_count == 2
    assert box.take(0) == 2
    assert box.take(0) is None
    assert box.take(0.01) is None


def test_take_waits_for_a_put_from_another_thread() -> None:
    box: Mailbox[str] = Mailbox()
    threading.Timer(0.02, box.put, args=("frame",)).start()
    assert box.take(5.0) == "frame"


def test_wait_empty() -> None:
    box: Mailbox[int] = Mailbox()
    assert box.wait_empty(0)
    box.put(1)
    assert not box.wait_empty(0.01)
    threading.Timer(0.02, box.take, args=(0,)).start()
    assert box.wait_empty(5.0)


def test_pool_reuses_the_same_arrays() -> None:
    pool = SlotPool(2, lambda: {"bgr": np.zeros((4, 6, 3), np.uint8)})
    a = pool.acquire()
    b = pool.acquire()
    assert a["bgr"] is not b["bgr"]
    with pytest.raises(PoolExhausted):
        pool.acquire()
    array = a["bgr"]
    a.release()
    a.release()  # twice is harmless
    assert pool.free_count() == 1
    again = pool.acquire()
    assert again["bgr"] is array
    b.release()
    again.release()
    assert pool.free_count() == 2


def test_release_returns_carried_slots() -> None:
    upstream = SlotPool(1, lambda: {"x": np.zeros(3)})
    downstream = SlotPool(1, lambda: {"y": np.zeros(3)})
    up = upstream.acquire()
    down = downstream.acquire()
    down.carried = up
    down.release()
    assert upstream.free_count() == 1 and downstream.free_count() == 1
    assert downstream.acquire().carried is None


def test_threaded_producer_consumer_sees_increasing_sequence_numbers() -> None:
    pool = SlotPool(3, lambda: {"v": np.zeros(1)})
    box: Mailbox = Mailbox()
    seen: list[int] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or box.put_count > len(seen) + box.dropped:
            slot = box.take(0.01)
            if slot is not None:
                seen.append(slot.seq)
                slot.release()

    consumer = threading.Thread(target=consume)
    consumer.start()
    for seq in range(1, 500):
        slot = pool.acquire()  # never exhausted: one producing, one in the box, one consumed
        slot.seq = seq
        replaced = box.put(slot)
        if replaced is not None:
            replaced.release()
    done.set()
    consumer.join(10)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 499
    assert len(seen) + box.dropped == 499
