"""The random checks' protocol, pinned: which calls each aspect makes (shapes, arguments, the
seed of the generator it passes), the ✓ summary it prints, and the words of every message a
catalogued mistake — or a function that never raises — gets.

This is an approval test. The shapes, arguments and seeds are part of the checks' calibrated
design (calibration/ was run on them; COURSE.md §6: every mistake caught at every seed tried),
so a change to them must be deliberate: review the diff of tests/golden/protocol.json, re-run
the calibration, then regenerate it with

    INITKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_protocol.py

Numbers with a decimal point are masked as ``#`` in messages (they depend on floating point,
which may differ in the last digits between platforms); integers — shapes, counts, sample
sizes — are kept. The statistical tests (test_checks.py, test_statistical_standard.py) judge
the numbers themselves.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from initkit import checks
from initkit.mistakes import MISTAKES, reference
from verdicts import failing_aspects

GOLDEN = Path(__file__).resolve().parent / "golden" / "protocol.json"
TARGETS = ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "truncated_normal",
           "variance_scaling", "orthogonal"]
FLOAT = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?|-?\d+e[+-]?\d+")


def mask(text: str) -> str:
    return FLOAT.sub("#", text)


def _rng_seed(rng):
    """How the check seeded the generator it passed: its SeedSequence entropy, or None."""
    if rng is None:
        return None
    entropy = rng.bit_generator.seed_seq.entropy
    return entropy if isinstance(entropy, int) else list(entropy)


class Spy:
    """The reference implementation, recording each call (run-length encoded)."""

    def __init__(self, target: str, lenient: bool = False):
        self.fn, self.lenient, self.calls = reference(target), lenient, []
        self.__name__ = target

    def __call__(self, shape, *args, rng=None, **kwargs):
        record = [list(shape), [repr(a) for a in args], sorted((k, repr(v)) for k, v in kwargs.items()),
                  _rng_seed(rng) if rng is not None else "none"]
        if self.calls and self.calls[-1][0] == record:
            self.calls[-1][1] += 1
        else:
            self.calls.append([record, 1])
        try:
            return self.fn(shape, *args, rng=rng, **kwargs)
        except ValueError:
            if not self.lenient:
                raise
            return np.zeros(tuple(shape))  # accepts anything: the errors aspect must say so

    def extra_interface(self) -> str:  # the hook a Keras class uses to report get_config
        return "extra interface hook called"


def observe() -> dict:
    """What the protocol is today: calls and ✓ lines of the reference per aspect at seed 0,
    the lenient function's messages, and every catalogued NumPy mistake's masked messages."""
    found: dict = {}
    for target in TARGETS:
        check = getattr(checks, f"check_{target}")
        for aspect in check.aspects:
            spy, out = Spy(target), io.StringIO()
            with contextlib.redirect_stdout(out):
                check(spy, aspect=aspect, seed=0)
            found[f"{target}/{aspect}/calls"] = spy.calls
            found[f"{target}/{aspect}/passed"] = mask(out.getvalue().strip())
        lenient = failing_aspects(check, Spy(target, lenient=True), 0)
        found[f"{target}/lenient"] = {a: mask(m) for a, m in lenient.items()}
    for key, entry in sorted(MISTAKES.items()):
        if entry.track == "numpy" and entry.target in TARGETS:
            failed = failing_aspects(getattr(checks, f"check_{entry.target}"), entry.fn, 0)
            found[f"mistake:{key}"] = {a: mask(m) for a, m in failed.items()}
    return json.loads(json.dumps(found))  # tuples → lists, as the golden file has them


@pytest.fixture(scope="module")
def observed():
    found = observe()
    if os.environ.get("INITKIT_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return found


GOLDEN_DATA = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}


def test_the_golden_file_exists_and_covers_every_random_target():
    assert GOLDEN_DATA, f"{GOLDEN} is missing: INITKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_protocol.py"
    assert {k.split("/")[0] for k in GOLDEN_DATA if not k.startswith("mistake:")} == set(TARGETS)


@pytest.mark.parametrize("key", sorted(GOLDEN_DATA))
def test_the_protocol_is_unchanged(key, observed):
    assert key in observed, f"{key} is no longer produced"
    assert observed[key] == GOLDEN_DATA[key]


def test_nothing_new_is_left_unpinned(observed):
    assert set(observed) <= set(GOLDEN_DATA), sorted(set(observed) - set(GOLDEN_DATA))
