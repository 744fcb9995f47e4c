"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/<script>.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` calls of ``fn`` (seconds) and the last call's result."""
    times, out = timed(repeat, fn)
    return min(times), out


def timed(repeat: int, fn: Callable[[], Any]) -> tuple[list[float], Any]:
    """Every call's time (seconds) over ``repeat`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def median(times: list[float]) -> float:
    return statistics.median(times)
