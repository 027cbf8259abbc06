"""Keeping a student's code from crashing a check, hanging it, or leaking noise into a graded
cell: output capture at the file-descriptor level, warnings recorded, and a watchdog that
interrupts a check past its time budget.

nbgrader scores a test cell with any stderr output as zero, and ipykernel forwards what a C
library (or TensorFlow) writes to fd 2 — so ``contextlib.redirect_stderr`` alone is not
enough: fds 1 and 2 are pointed at a temporary file with ``os.dup2`` for the duration.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
import _thread

#: Seconds one check call may take in total (student calls and checking). nbgrader's
#: per-cell ``Execute.timeout`` is 120 s in nbgrader_config.py: this stays well below it, so
#: a slow function gets our message rather than a dead cell.
CHECK_BUDGET_S = 60.0


class Captured:
    """What student code printed or warned while a check ran."""

    def __init__(self) -> None:
        self.text = ""
        self.warnings: list[str] = []

    def summary(self) -> str:
        """One line for a failure message, or '' when the student's code was silent."""
        parts = []
        if self.warnings:
            parts.append(f"warned {self.warnings[0]}" + (f" (and {len(self.warnings) - 1} more)" if len(self.warnings) > 1 else ""))
        lines = [line for line in self.text.splitlines() if line.strip()]
        if lines:
            parts.append(f"printed {lines[0][:120]!r}" + (f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else ""))
        return f" (Your function also {' and '.join(parts)}.)" if parts else ""


@contextlib.contextmanager
def captured_output():
    """Capture sys.stdout/sys.stderr, fds 1 and 2, and warnings; yield a ``Captured``."""
    result = Captured()
    sink = tempfile.TemporaryFile(mode="w+b")
    saved = _redirect_fds(sink)
    text = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
            warnings.simplefilter("always")
            yield result
    finally:
        _restore_fds(saved)
        sink.seek(0)
        result.text = text.getvalue() + sink.read().decode("utf-8", "replace")
        sink.close()
        result.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]


def _redirect_fds(sink) -> list:
    saved = []
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    for fd in (1, 2):
        try:
            saved.append((fd, os.dup(fd)))
            os.dup2(sink.fileno(), fd)
        except OSError:  # no such fd (e.g. pythonw on Windows): nothing to capture there
            pass
    return saved


def _restore_fds(saved: list) -> None:
    for fd, copy in saved:
        os.dup2(copy, fd)
        os.close(copy)


_watchdog_enabled = True


@contextlib.contextmanager
def watchdog_disabled():
    """No watchdog inside: the grader's proxy enforces the time budget from outside the kernel
    (a signal to the grader's own main thread would desynchronise it from the kernel)."""
    global _watchdog_enabled
    previous, _watchdog_enabled = _watchdog_enabled, False
    try:
        yield
    finally:
        _watchdog_enabled = previous


class Watchdog:
    """Interrupt the main thread once ``seconds`` have passed, unless stopped first.

    ``fired`` tells a KeyboardInterrupt caused by the watchdog from one the user sent. On
    POSIX a real SIGINT is sent to the main thread (it also wakes ``time.sleep`` and blocking
    reads); elsewhere ``_thread.interrupt_main()`` raises at the next Python bytecode. Both
    only work when the check runs in the main thread, as in a Jupyter kernel; elsewhere the
    watchdog stays idle.
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = CHECK_BUDGET_S if seconds is None else seconds
        self.fired = False
        self._active = _watchdog_enabled and threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __enter__(self) -> Watchdog:
        if self._active:
            threading.Thread(target=self._run, daemon=True, name="initkit-watchdog").start()
        return self

    def _run(self) -> None:
        if self._stop.wait(self.seconds):
            return
        with self._lock:
            if not self._active:
                return
            self.fired = True
            if hasattr(signal, "pthread_kill"):
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            else:
                _thread.interrupt_main()

    def __exit__(self, exc_type, exc, tb) -> bool:
        with self._lock:
            self._active = False
        self._stop.set()
        if self.fired and exc_type is not KeyboardInterrupt:
            # The interrupt was sent but not yet raised: absorb it here, not in the caller.
            try:
                time.sleep(1.0)
            except KeyboardInterrupt:
                pass
        return False
