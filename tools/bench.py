"""Benchmark of initkit.checks: time and memory per check, and detection of the mistake
catalogue by our checks beside two anchor-style checkers, in one run.

Anchors (applied at default arguments, as those test suites do):
- PyTorch-style: scipy.stats.kstest of one tensor of random size 20–25 per dim against the
  exact target law, pass when p > 1e-4 (torch's test/nn/test_init.py);
- Keras-style: |std − target std| ≤ 0.1 on a 25×20 tensor.

    python tools/bench.py
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time
import tracemalloc

import numpy as np
from scipy import stats

from initkit import checks
from initkit.checks import _initializers as specs
from initkit.mistakes import CORRECT, MISTAKES, load_track

RANDOM_SPECS = {s.name: s for s in (specs.XAVIER_UNIFORM, specs.XAVIER_NORMAL, specs.KAIMING_UNIFORM,
                                    specs.KAIMING_NORMAL, specs.TRUNCATED_NORMAL, specs.VARIANCE_SCALING)}


def quiet(call):
    with contextlib.redirect_stdout(io.StringIO()):
        return call()


def graded_functions():
    """(label, target, graded callable, fixed) for every reference: NumPy, then the tracks."""
    from calibrate import entries  # the same list the calibration runs

    for key, target, fn, fixed, fails, _ in entries(("numpy", "torch", "keras")):
        if not fails and key.split("/")[1].startswith("initkit"):
            yield key, target, fn, fixed


def time_checks() -> list:
    """Seconds per aspect include the function's own time: for the Keras track most of it is
    eager TensorFlow (≈1 ms a call), not checking."""
    rows = []
    for label, target, fn, fixed in graded_functions():
        check = getattr(checks, f"check_{target}")
        per_aspect = {}
        for aspect in check.aspects:
            times = []
            for seed in range(3):
                t = time.perf_counter()
                quiet(lambda: check(fn, aspect=aspect, seed=seed, fixed=fixed))
                times.append(time.perf_counter() - t)
            per_aspect[aspect] = statistics.median(times)
        tracemalloc.start()
        t = time.perf_counter()
        quiet(lambda: check(fn, fixed=fixed))
        total = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        slowest = max(per_aspect, key=per_aspect.get)
        rows.append((label.removesuffix("/initkit"), len(per_aspect), f"{slowest} {per_aspect[slowest]:.3f}",
                     f"{total:.3f}", f"{peak:.1f}"))
    return rows


def torch_anchor(spec, fn, seed) -> bool:
    r = np.random.default_rng(seed)
    shape = tuple(int(v) for v in r.integers(20, 26, 2))
    law = spec.law(shape)
    x = fn(shape, rng=np.random.default_rng(seed + 1000)).ravel()
    return stats.kstest(x, law.frozen.cdf).pvalue > 1e-4


def keras_anchor(spec, fn, seed) -> bool:
    shape = (25, 20)
    law = spec.law(shape)
    x = fn(shape, rng=np.random.default_rng(seed + 2000))
    return abs(x.std() - law.std) <= 0.1


def ours(entry, seed) -> bool:
    try:
        quiet(lambda: entry.run_check(seed=seed))
        return True
    except AssertionError:
        return False


def detection(seeds: int, track: str) -> list:
    """Per checker: mistakes caught at every seed, and false fails of the correct variants.
    The anchors judge NumPy-contract callables of the torch-layout random initializers, so
    they apply to the NumPy and PyTorch tracks (through the adapter), not to Keras classes."""
    rows = []
    mistakes = [e for e in MISTAKES.values() if e.track == track]
    correct = [e for e in CORRECT.values() if e.track == track]
    judges = [("ours (initkit.checks)", None)]
    if track != "keras":
        judges += [("PyTorch-style anchor", torch_anchor), ("Keras-style anchor", keras_anchor)]
    for label, judge in judges:
        caught = false_fails = applicable = runs = 0
        for e in mistakes:
            if judge is not None and e.target not in RANDOM_SPECS:
                continue
            applicable += 1
            passed = [ours(e, s) if judge is None else _safe(judge, RANDOM_SPECS[e.target], e.graded, s)
                      for s in range(seeds)]
            caught += not any(passed)  # caught means: failed at every seed
        for e in correct:
            if judge is not None and e.target not in RANDOM_SPECS:
                continue
            for s in range(seeds):
                runs += 1
                false_fails += not (ours(e, s) if judge is None else _safe(judge, RANDOM_SPECS[e.target], e.graded, s))
        rows.append((track, label, f"{caught}/{applicable}", f"{false_fails}/{runs}"))
    return rows


def _safe(judge, spec, fn, seed) -> bool:
    try:
        return bool(judge(spec, fn, seed))
    except Exception:
        return False


def table(header, rows) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main() -> int:
    for track in ("torch", "keras"):
        load_track(track)
    print("Time and memory per check (reference implementations, median of 3 seeds)\n")
    print(table(["function", "aspects", "slowest aspect [s]", "all aspects [s]", "peak MiB"], time_checks()))
    seeds = {"numpy": 20, "torch": 20, "keras": 5}  # a Keras orthogonal check takes ~4 s of TF
    print(f"\nDetection of the mistake catalogue ({len(MISTAKES)} mistakes; caught = fails at every "
          f"seed tried: {seeds}; anchors apply to the {len(RANDOM_SPECS)} random initializers only)\n")
    rows = [row for track, n in seeds.items() for row in detection(n, track)]
    print(table(["track", "checker", "mistakes caught", "false fails (correct variants × seeds)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
