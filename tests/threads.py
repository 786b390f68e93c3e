"""Run one function on many threads at once, for the concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_in_threads(n: int, work: Callable[[int], T], *, timeout: float = 120.0) -> list[T]:
    """Call `work(0)` ... `work(n - 1)`, each on its own thread, all started together.

    Returns the results in index order; re-raises the first exception any thread raised,
    and fails if a thread is still running after `timeout` seconds.
    """
    results: dict[int, T] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {timeout} s: {stuck}"
    if errors:
        raise errors[0]
    return [results[i] for i in range(n)]
