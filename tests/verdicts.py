"""Run a check aspect by aspect and collect the verdicts (shared by the test modules)."""

from __future__ import annotations

import contextlib
import io

from initkit import checks


def failing_aspects(check, fn, seed: int = 0, *, fixed: dict | None = None, only=None,
                    first: bool = False) -> dict[str, str]:
    """{aspect: message} for each aspect of ``check`` (or of ``only``, in the check's order)
    that ``fn`` fails at ``seed``; ``first`` stops at the first failure. ✓ lines are dropped."""
    failed = {}
    for aspect in check.aspects:
        if only is not None and aspect not in only:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(fn, aspect=aspect, seed=seed, fixed=fixed)
        except AssertionError as err:
            failed[aspect] = str(err)
            if first:
                break
    return failed


def entry_failures(entry, seed: int = 0, **kwargs) -> dict[str, str]:
    """``failing_aspects`` of a catalogue entry, through its track's adapter."""
    return failing_aspects(getattr(checks, f"check_{entry.target}"), entry.graded, seed, fixed=entry.fixed, **kwargs)
