"""The store's yielding lock still excludes, still times out, and still lets the holder re-enter."""

from __future__ import annotations

import threading
import time

from adapters.memory.locking import YieldingLock


def test_threads_never_overlap_inside_the_lock() -> None:
    lock = YieldingLock()
    inside = 0
    overlaps = 0

    def work() -> None:
        nonlocal inside, overlaps
        for _ in range(2000):
            with lock:
                inside += 1
                if inside > 1:
                    overlaps += 1
                time.sleep(0)  # invite a switch while holding it
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert overlaps == 0


def test_a_waiter_gives_up_after_its_timeout_while_the_lock_is_held() -> None:
    lock = YieldingLock()
    held = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    started = time.monotonic()

    assert lock.acquire(timeout=0.2) is False
    assert time.monotonic() - started >= 0.2
    done.set()
    holder.join()
    assert lock.acquire(timeout=1) is True
    lock.release()


def test_the_holder_can_take_it_again() -> None:
    lock = YieldingLock()
    with lock, lock:
        pass
    assert lock.acquire(timeout=0) is True
    lock.release()
