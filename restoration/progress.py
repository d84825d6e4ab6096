"""A one-line terminal progress bar for long engine runs (no torch: the web app's commands use it)."""

from __future__ import annotations

import math
import sys
import time


class ProgressBar:
    """A one-line text progress bar on stderr: frames done/total, fps and ETA, redrawn with \\r.

    ``phase(label)`` starts a new phase on a new line (e.g. "analysing" then "restoring"), with
    its own rate and ETA. A ``total`` of None (unknown length) shows the frames done and the rate.
    """

    def __init__(self, label: str, stream=None, min_interval: float = 0.2):
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self._drawn = False
        self.phase(label)

    def phase(self, label: str) -> None:
        self.close()  # the previous phase keeps its last line
        self.label = label
        self._started = time.perf_counter()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        finished = total is not None and done >= total
        if not finished and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        if total is None:
            line = f"\r{self.label} {done} frames {rate:6.2f} fps   "
        else:
            eta = (total - done) / rate if rate > 0 else float("inf")
            percent = 100.0 * done / total if total else 100.0
            line = f"\r{self.label} {done}/{total} frames {percent:5.1f}% {rate:6.2f} fps ETA {_clock(eta)}   "
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
