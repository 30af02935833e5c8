"""A small progress bar on stderr: redrawn in place on a terminal, a few plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts work done toward an optional total and reports it on a stream.

    On a terminal the bar is redrawn at most ten times a second; on a pipe or log file it
    writes a line at each tenth of the total, so CI logs stay short.
    """

    def __init__(
        self, label: str, total: int | None = None, unit: str = "it",
        stream: TextIO | None = None, enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = total if total and total > 0 else None
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.count = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self._tty:
            if now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw(end="")
        elif self.total:
            decile = min(10, self.count * 10 // self.total)
            if decile > self._last_decile:
                self._last_decile = decile
                self._draw(end="\n")

    def close(self) -> None:
        if not self.enabled:
            return
        if self._tty or self._last_decile < 10:
            self._draw(end="\n")
        self.enabled = False

    def _draw(self, end: str) -> None:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = self.count / elapsed
        if self.total:
            frac = min(1.0, self.count / self.total)
            bar = "#" * int(frac * 24)
            text = (f"{self.label} [{bar:<24}] {frac * 100:3.0f}% "
                    f"{self.count}/{self.total} {self.unit} {rate:.1f} {self.unit}/s")
        else:
            text = f"{self.label} {self.count} {self.unit} {rate:.1f} {self.unit}/s"
        prefix = "\r" if self._tty else ""
        self.stream.write(prefix + text + ("\033[K" if self._tty else "") + end)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
