"""Benchmark of initkit.checks: time and memory per check, and detection of the mistake
catalogue by our checks beside two anchor-style checkers, in one run.

Anchors:
- PyTorch-style: what PyTorch's own test/nn/test_init.py draws and tests, in our contract's
  terms (``torch_anchor``): for xavier_* 2-D and 4-D tensors of 20–25 per side (up to
  25⁴ ≈ 390k values), with and without a gain drawn from [0.1, 2); for kaiming_* the same
  shapes, with and without a slope a from [0.1, 2), in both modes; each tensor judged by
  scipy.stats.kstest against the exact target law, passing when p > 1e-4. For
  truncated_normal 1-, 2- and 4-D tensors of 30–50 per side with a random mean, std and
  bounds (values inside [a, b], kstest of the standardised values against truncnorm), plus
  its generator, narrow-interval, unique-values and no-boundary-values tests; for orthogonal
  (3, 4), (4, 3), (20, 2, 3, 4), (2, 3, 4, 5) with and without a gain, W·Wᵀ (or Wᵀ·W) =
  gain²·I to atol 1e-6. Sizes and arguments come from Python's ``random`` seeded with the
  seed, as the suite draws them from ``random.seed(123)``. The suite has no variance_scaling
  test, so this anchor does not judge it. Its calculate_gain, error and warning tests are not
  part of the anchor.
- Keras-style: |std − target std| ≤ 0.1 on a 25×20 tensor, at default arguments.

    python tools/bench.py [--parts times,cpu,detection]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import random
import signal
import statistics
import sys
import time
import tracemalloc

import numpy as np
from scipy import special, stats

from initkit import checks
from initkit.checks import _initializers as specs
from initkit.checks._guard import Watchdog
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


# --- the PyTorch-style anchor: test/nn/test_init.py, in our contract's terms ----------------

def _suite_sizes(r: random.Random, dims: int, size_min: int, size_max: int) -> tuple:
    """``_create_random_nd_tensor``: every side uniform in [size_min, size_max]."""
    return tuple(r.randint(size_min, size_max) for _ in range(dims))


def _suite_float(r: random.Random, a: float, b: float) -> float:
    """``_random_float``."""
    return (b - a) * r.random() + a


def _suite_fans(shape) -> tuple:
    """The suite's fans: size(1), size(0), times tensor[0, 0].numel() beyond 2-D."""
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


def _kstest_passes(x, cdf, args=()) -> bool:
    """``_is_uniform`` / ``_is_normal`` / ``_is_trunc_normal``: kstest p-value > 1e-4."""
    return stats.kstest(np.asarray(x, dtype=np.float64).ravel(), cdf, args=args).pvalue > 1e-4


def _truncnorm_cdf(a0: float, b0: float):
    """scipy's truncnorm(a0, b0).cdf, computed with ndtr (scipy's is slow on 6·10⁶ values)."""
    lo, mass = special.ndtr(a0), special.ndtr(b0) - special.ndtr(a0)
    return lambda z: np.clip((special.ndtr(z) - lo) / mass, 0.0, 1.0)


def _suite_xavier(fn, r, draws, family) -> bool:
    for use_gain in (True, False):
        for dims in (2, 4):
            shape = _suite_sizes(r, dims, 20, 25)
            gain = _suite_float(r, 0.1, 2) if use_gain else 1
            x = fn(shape, rng=draws, **({"gain": gain} if use_gain else {}))
            fan_in, fan_out = _suite_fans(shape)
            std = gain * math.sqrt(2.0 / (fan_in + fan_out))
            bound = std * math.sqrt(3)
            if not (_kstest_passes(x, "uniform", (-bound, 2 * bound)) if family == "uniform"
                    else _kstest_passes(x, "norm", (0, std))):
                return False
    return True


def _suite_kaiming(fn, r, draws, family) -> bool:
    for use_a in (True, False):
        for dims in (2, 4):
            for mode in ("fan_in", "fan_out"):
                shape = _suite_sizes(r, dims, 20, 25)
                a = _suite_float(r, 0.1, 2) if use_a else 0
                x = fn(shape, rng=draws, **({"a": a, "mode": mode} if use_a else {"mode": mode}))
                fan_in, fan_out = _suite_fans(shape)
                std = math.sqrt(2.0 / ((1 + a**2) * (fan_in if mode == "fan_in" else fan_out)))
                bound = std * math.sqrt(3.0)
                if not (_kstest_passes(x, "uniform", (-bound, 2 * bound)) if family == "uniform"
                        else _kstest_passes(x, "norm", (0, std))):
                    return False
    return True


def _suite_truncated_normal(fn, r, draws, seed) -> bool:
    def inside_and_ks(x, mean, std, a, b) -> bool:
        x = np.asarray(x)
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        lo, hi = dtype.type(a), dtype.type(b)  # the bounds at the tensor's precision
        z = (x.astype(np.float64) - mean) / std
        return bool(x.min() >= lo and x.max() <= hi) and _kstest_passes(z, _truncnorm_cdf((a - mean) / std,
                                                                                      (b - mean) / std))

    # test_trunc_normal_generator: the same generator seed gives the same values, of the right law
    first = fn((5,), mean=0.0, std=1.0, a=0.0, b=1.0, rng=np.random.default_rng(seed + 42))
    again = fn((5,), mean=0.0, std=1.0, a=0.0, b=1.0, rng=np.random.default_rng(seed + 42))
    if not (np.array_equal(first, again) and inside_and_ks(first, 0.0, 1.0, 0.0, 1.0)):
        return False
    # test_trunc_normal_all_dtypes (our function picks its dtype): 1-, 2- and 4-D, 30–50 per side
    for dims in (1, 2, 4):
        shape = _suite_sizes(r, dims, 30, 50)
        mean, std = r.uniform(-3, 3), r.uniform(0.01, 1)
        a, b = r.uniform(mean - 2 * std, mean), r.uniform(mean, mean + 2 * std)
        if not inside_and_ks(fn(shape, mean=mean, std=std, a=a, b=b, rng=draws), mean, std, a, b):
            return False
    # test_trunc_normal_narrow_interval
    if not inside_and_ks(fn((10_000,), mean=0.0, std=1.0, a=2.0, b=3.0, rng=draws), 0.0, 1.0, 2.0, 3.0):
        return False
    # test_trunc_normal_unique_values (float32/float64: more than 5,000 distinct of 10,000, finite)
    x = np.asarray(fn((10_000,), mean=0.0, std=1.0, a=-2.0, b=2.0, rng=draws))
    if not (x.min() >= -2.0 and x.max() <= 2.0 and np.unique(x).size > 5000 and np.all(np.isfinite(x))):
        return False
    # test_trunc_normal_no_boundary_values_small_std
    x = np.asarray(fn((10_000,), mean=0.0, std=0.1, a=-2.0, b=2.0, rng=draws))
    return int(np.sum(x == -2.0)) == 0 and int(np.sum(x == 2.0)) == 0


def _suite_orthogonal(fn, r, draws) -> bool:
    for use_gain in (True, False):
        for shape in ((3, 4), (4, 3), (20, 2, 3, 4), (2, 3, 4, 5)):
            gain = _suite_float(r, 0.1, 2) if use_gain else 1.0
            w = np.asarray(fn(shape, rng=draws, **({"gain": gain} if use_gain else {})))
            rows, cols = shape[0], math.prod(shape[1:])
            flat = w.reshape(rows, cols)  # in its own dtype, as torch.mm computes
            gram = flat.T @ flat if rows > cols else flat @ flat.T
            if not np.allclose(gram, np.eye(len(gram)) * gain**2, atol=1e-6, rtol=0):
                return False
    return True


#: The exercises test_init.py tests, and how (each a function of fn, random.Random, generator, seed).
TORCH_SUITE = {
    "xavier_uniform": lambda fn, r, draws, seed: _suite_xavier(fn, r, draws, "uniform"),
    "xavier_normal": lambda fn, r, draws, seed: _suite_xavier(fn, r, draws, "normal"),
    "kaiming_uniform": lambda fn, r, draws, seed: _suite_kaiming(fn, r, draws, "uniform"),
    "kaiming_normal": lambda fn, r, draws, seed: _suite_kaiming(fn, r, draws, "normal"),
    "truncated_normal": _suite_truncated_normal,
    "orthogonal": lambda fn, r, draws, seed: _suite_orthogonal(fn, r, draws),
}


def torch_anchor(target, fn, seed) -> bool:
    """Every test_init.py test of ``target``, sizes and arguments drawn from random.Random(seed)."""
    return TORCH_SUITE[target](fn, random.Random(seed), np.random.default_rng(seed + 1000), seed)


def keras_anchor(target, fn, seed) -> bool:
    shape = (25, 20)
    law = RANDOM_SPECS[target].law(shape)
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
    The anchors judge NumPy-contract callables of torch-layout initializers, so they apply to
    the NumPy and PyTorch tracks (through the adapter), not to Keras classes."""
    rows = []
    mistakes = [e for e in MISTAKES.values() if e.track == track]
    correct = [e for e in CORRECT.values() if e.track == track]
    judges = [("ours (initkit.checks)", None, None)]
    if track != "keras":
        judges += [("PyTorch-style anchor", torch_anchor, TORCH_SUITE), ("Keras-style anchor", keras_anchor, RANDOM_SPECS)]
    for label, judge, targets in judges:
        caught = false_fails = applicable = runs = 0
        for e in mistakes:
            if judge is not None and e.target not in targets:
                continue
            applicable += 1
            # caught means: failed at every seed (the first seed it passes settles it)
            caught += not any(ours(e, s) if judge is None else _safe(judge, e.target, e.graded, s)
                              for s in range(seeds))
        for e in correct:
            if judge is not None and e.target not in targets:
                continue
            for s in range(seeds):
                runs += 1
                false_fails += not (ours(e, s) if judge is None else _safe(judge, e.target, e.graded, s))
        rows.append((track, label, f"{caught}/{applicable}", f"{false_fails}/{runs}"))
    return rows


#: An anchor judging one function at one seed takes ≤ 5 s; one still running after this long has
#: hung (a rejection sampler aimed at the wrong interval: the suite would hang too) and fails.
ANCHOR_BUDGET_S = 30


def _safe(judge, target, fn, seed) -> bool:
    with Watchdog(ANCHOR_BUDGET_S) as watchdog:
        try:
            with np.errstate(all="ignore"):
                return bool(quiet(lambda: judge(target, fn, seed)))
        except KeyboardInterrupt:
            if not watchdog.fired:
                raise
            return False
        except Exception:
            return False


def table(header, rows) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def cpu_budget() -> list:
    """Issue 17's budget for the slowest checks: one call at seed 0, CPU seconds of this
    process (every thread: TensorFlow's included) per aspect and with every aspect."""
    rows = []
    for label, target, fn, fixed in graded_functions():
        if label not in ("keras:orthogonal/initkit", "keras:init_weights_keras/initkit"):
            continue
        check = getattr(checks, f"check_{target}")
        per_aspect = []
        for aspect in check.aspects:
            t = time.process_time()
            quiet(lambda: check(fn, aspect=aspect, seed=0, fixed=fixed))
            per_aspect.append(f"{aspect} {time.process_time() - t:.2f}")
        t, wall = time.process_time(), time.perf_counter()
        quiet(lambda: check(fn, seed=0, fixed=fixed))
        rows.append((label.removesuffix("/initkit"), ", ".join(per_aspect), f"{time.process_time() - t:.2f}",
                     f"{time.perf_counter() - wall:.2f}"))
    return rows


PARTS = ("times", "cpu", "detection")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parts = parser.parse_args(argv).parts.split(",")
    if not set(parts) <= set(PARTS):
        parser.error(f"--parts takes {', '.join(PARTS)}; received {','.join(parts)!r}")
    # Started in the background (`make bench &`), SIGINT is ignored and no watchdog — the checks'
    # or the anchors' — could stop a hung call: restore Python's handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for track in ("torch", "keras"):
        load_track(track)
    if "times" in parts:
        print("Time and memory per check (reference implementations, median of 3 seeds)\n")
        print(table(["function", "aspects", "slowest aspect [s]", "all aspects [s]", "peak MiB"], time_checks()))
    if "cpu" in parts:
        print("\nCPU seconds of one call at seed 0 (issue 17: ≤ 2 CPU-s with every aspect)\n")
        print(table(["function", "per aspect [CPU s]", "all aspects [CPU s]", "all aspects [wall s]"], cpu_budget()))
    if "detection" in parts:
        seeds = {"numpy": 20, "torch": 20, "keras": 5}  # a Keras orthogonal check takes ~4 s of TF
        print(f"\nDetection of the mistake catalogue ({len(MISTAKES)} mistakes; caught = fails at every "
              f"seed tried: {seeds}; the PyTorch-style anchor applies to the {len(TORCH_SUITE)} initializers "
              f"test_init.py tests, the Keras-style one to the {len(RANDOM_SPECS)} random initializers)\n")
        rows = [row for track, n in seeds.items() for row in detection(n, track)]
        print(table(["track", "checker", "mistakes caught", "false fails (correct variants × seeds)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
