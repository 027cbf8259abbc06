"""While a notebook is graded, initkit's reference answers to its exercises refuse to serve as
the student's answer (COURSE.md §9 B). Runs inside the student's kernel, on the staged copy
of initkit that ``initgrader.sandbox.stage_libraries`` rewrote.

A guarded reference function (or class constructor) still works when it is called

- by initkit itself — the checks compute expected values with it, and the presets build on
  the reference classes — except from the places where initkit calls *the student's*
  function (``initkit.checks._engine``, ``_adapters``, ``_init_weights``), or
- by one of the notebook's own cells exactly as released (06's rosetta table calls three of
  them), recognised by the SHA-256 of the cell's source, which IPython keeps in ``linecache``;

and raises ``RuntimeError`` otherwise: from an answer cell, from a function the student
wrote around it, or from the grader's serve loop calling "the student's function" that is
really initkit's. A student can defeat this inside their own kernel (it is their process);
what it stops is the two-line answer ``from initkit import var_of_product``.
"""

from __future__ import annotations

import hashlib
import json
import linecache
import os

#: initkit modules that call the student's function: a reference called from there is being
#: passed off as the student's answer.
STUDENT_CALLERS = ("initkit.checks._engine", "initkit.checks._adapters", "initkit.checks._init_weights")
#: Written by the grader next to the staged packages: hashes of the release's non-answer cells.
ALLOWED_CELLS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "allowed_cells.json")


def cell_hash(source: str) -> str:
    return hashlib.sha256(source.strip().encode()).hexdigest()


def _allowed_cells() -> frozenset:
    try:
        with open(ALLOWED_CELLS_FILE, encoding="utf-8") as f:
            return frozenset(json.load(f))
    except (OSError, ValueError):
        return frozenset()


_ALLOWED = _allowed_cells()


def refuse_unless_allowed(name: str, caller) -> None:
    """Raise unless ``caller`` (a frame) may use initkit's reference ``name``."""
    module = str(caller.f_globals.get("__name__", ""))
    if module.startswith("initkit") and module not in STUDENT_CALLERS:
        return
    if cell_hash("".join(linecache.getlines(caller.f_code.co_filename))) in _ALLOWED:
        return
    raise RuntimeError(f"initkit's reference {name} is not available while your work is graded: "
                       "the exercise is to write it yourself")
