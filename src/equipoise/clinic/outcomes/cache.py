"""The outcome dashboard, computed at most once per ``seconds`` for each clinic and view.

It aggregates every patient, so reading it on every request of a busy clinic would spend more
time than all its data entry together; an aggregate a few seconds old answers the same
questions. Concurrent requests for a stale entry wait for one computation instead of each
making their own. Each answer carries ``as_of``, the time it was computed.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class DashboardCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, dict[str, Any]]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The entry for ``key``, made by ``make`` when missing or older than ``seconds``."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._entries.get(key)
            if found is not None and time.monotonic() - found[0] < self.seconds:
                return found[1]
            value = make() | {"as_of": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "recomputed_every_seconds": self.seconds}
            self._entries[key] = (time.monotonic(), value)
            return value
