"""Progress on stderr for the long stages (read, query, evaluate, write).

On a terminal: one live line, rewritten in place at most every 0.2 s and cleared when the stage ends.
Elsewhere (a CI log): a plain line when a stage has run for `interval` seconds and then every
`interval` seconds, so a long silent stage still shows it is alive and a fast one prints nothing.
`--progress auto|always|never` (and `--quiet`, which is `never`) choose; `always` draws the live line
even when stderr is not a terminal. `CTLINT_PROGRESS` sets the default.

Not tqdm or rich: on a stream that is not a terminal tqdm keeps rewriting one `\\r` line (one endless
line in a CI log), and rich is a large dependency for one line of text.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

MODES = ("auto", "always", "never")
INTERVAL = 10.0  # seconds between plain lines
_LIVE_EVERY = 0.2
_CLEAR = "\r\033[2K"  # back to the line's start, erase it


def mode_from(progress: str | None = None, *, quiet: bool = False) -> str:
    """The mode asked for: --quiet wins, then --progress, then CTLINT_PROGRESS, then auto."""
    if quiet:
        return "never"
    chosen = progress or os.environ.get("CTLINT_PROGRESS") or "auto"
    return chosen if chosen in MODES else "auto"


class Progress:
    """A reporter for one run; `update` is cheap to call often."""

    def __init__(
        self,
        mode: str = "auto",
        *,
        stream: TextIO | None = None,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.mode = mode
        self.interval = interval
        self.clock = clock
        tty = _isatty(self.stream)
        self.enabled = mode != "never"
        self.live = self.enabled and (mode == "always" or tty)
        self._shown = False  # a live line is on screen
        self._text = ""  # what it says
        self._last = 0.0
        self._began = clock()
        self._lock = threading.Lock()

    def start(self) -> None:
        """A stage begins: plain lines wait a full interval from now."""
        self._began = self._last = self.clock()

    def update(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        with self._lock:
            if self.live:
                if text != self._text and (force or now - self._last >= _LIVE_EVERY):
                    self._text = text
                    self._control(_CLEAR)
                    self.stream.write(f"ctlint: {text}")
                    self.stream.flush()
                    self._shown = True
                    self._last = now
            elif now - self._last >= self.interval:
                self.stream.write(f"ctlint: {text}\n")
                self.stream.flush()
                self._last = now

    def clear(self) -> None:
        """End of a stage: remove the live line (the plain lines stay in the log)."""
        with self._lock:
            if self._shown:
                self._control(_CLEAR)
                self.stream.flush()
                self._shown = False
                self._text = ""

    def _control(self, sequence: str) -> None:
        # stderr is made inert (ctlint.inert.InertStream), which would escape the clearing sequence.
        write = getattr(self.stream, "write_control", None)
        (write or self.stream.write)(sequence)

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """A stage without counts of its own (a query, the evaluation, writing): elapsed time only."""
        if not self.enabled:
            yield
            return
        self.start()
        if self.live:  # a terminal shows the stage at once; a log waits a full interval
            self.update(f"{label} (0 s)", force=True)
        done = threading.Event()

        def tick() -> None:
            while not done.wait(_LIVE_EVERY if self.live else min(self.interval, 1.0)):
                self.update(f"{label} ({self.clock() - self._began:.0f} s)")

        ticker = threading.Thread(target=tick, name="ctlint-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            self.clear()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_CURRENT = Progress("never")


def current() -> Progress:
    """The run's reporter (set by the command from its flags; silent until then)."""
    return _CURRENT


def configure(mode: str, *, stream: TextIO | None = None) -> Progress:
    global _CURRENT
    _CURRENT = Progress(mode, stream=stream)
    return _CURRENT
