"""Progress on stderr: a redrawn bar on a terminal, a few plain lines in a log.

Never on stdout, which carries only results (DESIGN.md, CLI rule).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
LOG_STEPS = 4                 # lines a non-terminal gets: at 25, 50, 75 and 100 %


class ProgressBar:
    """A ``progress(done, total)`` callback that draws on ``stream`` (stderr by default).

    On a terminal the bar is redrawn in place with ``\\r``; otherwise (a pipe, a log file) it
    writes one line each time another quarter of the work is done, so logs stay short.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._logged = 0
        self._start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        share = min(max(done / total, 0.0), 1.0)
        elapsed = time.monotonic() - self._start
        if self.tty:
            filled = round(BAR_WIDTH * share)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {elapsed:5.1f}s{end}")
        else:
            step = int(share * LOG_STEPS)
            if step <= self._logged:
                return
            self._logged = step
            self.stream.write(f"{self.label}: {done}/{total} done ({share:.0%}, "
                              f"{elapsed:.1f}s)\n")
        self.stream.flush()
