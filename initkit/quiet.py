"""Keep what C libraries write straight to file descriptor 2 out of a notebook.

On import, TensorFlow 2.21 prints two lines from C++ before its logging is set up — "All log
messages before absl::InitializeLog() is called are written to STDERR" and "oneDNN custom
operations are on …" — so ``TF_CPP_MIN_LOG_LEVEL=3`` does not reach them, and a kernel shows
them in red under the cell (nbgrader scores a graded cell with stderr output as zero). The
notebooks import TensorFlow and Keras inside ``with fd2_silenced():``::

    with fd2_silenced():
        import keras
        import tensorflow as tf

This keeps oneDNN on (``TF_ENABLE_ONEDNN_OPTS=0`` also silences the second line, by turning
oneDNN off). A failed import still raises; in a kernel, Python's warnings and tracebacks do
not go through fd 2 and still show.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def fd2_silenced():
    """Point fd 2 at the null device for the duration of the block, then restore it."""
    if sys.__stderr__ is not None:
        sys.__stderr__.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (pythonw on Windows): nothing to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
