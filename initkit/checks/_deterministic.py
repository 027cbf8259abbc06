"""Checks of the deterministic functions: var_of_product, relu_moments, preactivation_variance,
predict_std, compute_fans, calculate_gain, batch_norm. Their answers are exact, so the only
tolerance is floating-point rounding — of the least precise correct computation: float32
arithmetic is a correct choice whatever dtype comes back (COURSE.md §5 "Return types"), so
every tolerance is derived from the float32 unit roundoff u = 2⁻²⁴ (``_contract.U32``), with
the formula next to it; predict_std's tanh layers need a numerical expectation, so theirs adds
a stated integration allowance (TANH_INTEGRATION_TOL).

Each check tries the whole space its contract names (``_contract``): every valid name and its
near misses, the numeric tower and its look-alikes, every input layout; the interface aspects
enforce §5's return types and name the type received."""

from __future__ import annotations

import math

import numpy as np

from .. import (batch_norm, predict_std, preactivation_variance, relu_moments,
                var_of_product)
from ..fans import LAYOUTS as FAN_LAYOUTS
from ..gain import NONLINEARITIES
from ..propagation import ACTIVATIONS
from . import _contract as c
from . import _tables
from ._engine import CheckFailed, Context, call_student, describe_call, expect_value_error, fmt


def _distinct(observed: float, expected: float) -> tuple[str, str]:
    """Both numbers with as many digits as it takes to tell them apart (4 at least):
    1.41414 vs 1.41421 must not print as 1.414 twice."""
    for digits in range(4, 18):
        a, b = f"{observed:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            return a, b
    return repr(observed), repr(expected)


REAL_RULE = ("a real number is a Python int or float or a NumPy integer/floating scalar — not a bool, "
             "Fraction, Decimal, complex or 0-d array (float(...) converts)")


def _require_real(call: str, out) -> None:
    """The interface rule for a scalar result: §5's real number, finite."""
    problem = c.real_number_problem(out)
    if problem:
        raise CheckFailed(f"{call} returned {out!r}, {problem}; {REAL_RULE}.")
    if not math.isfinite(out):
        raise CheckFailed(f"{call} returned {out!r}; expected a finite number.")


def _compare_scalar(call: str, observed, expected: float, tol: float, what: str) -> None:
    """Values are judged on the number (a Fraction holding the right value passes here and
    fails the interface): |observed − expected| ≤ tol."""
    value = c.as_real(observed)
    if value is None or not math.isfinite(value):
        raise CheckFailed(f"{call} returned {observed!r}, {c.real_number_problem(observed) or 'not finite'}; "
                          "expected a finite real number.")
    error = abs(value - expected)
    if error > tol:
        shown, wanted = _distinct(value, expected)
        hint = _precision_hint(observed, value, expected)
        raise CheckFailed(f"{call} returned {shown}; expected {wanted} ({what}){hint}.")


def _precision_hint(observed, value: float, expected: float) -> str:
    """Why a value can be close yet wrong: float16 arithmetic (3 digits), or a value rounded
    to 5 significant digits or fewer when the right one is not that short."""
    if isinstance(observed, np.float16):
        return " — float16 keeps only about 3 digits: compute in float32 or float64"
    if expected == 0 or abs(value - expected) / abs(expected) >= 1e-2:
        return ""
    if isinstance(observed, np.float32) and abs(value - expected) / abs(expected) < 1e-4:
        return (" — you returned np.float32, which keeps about 7 significant digits, and your float32 "
                "arithmetic lost more than a correct float32 computation's rounding (the tolerance allows "
                "that much, no more): compute in float64 — Python floats — and return a float")
    digits = _significant_digits(value)
    if digits <= 5 and _significant_digits(expected) > digits:
        return (f" — your value has only {digits} significant digits: do not round results or constants "
                "(write 5/3 and math.sqrt(2), not 1.667 and 1.414)")
    return ""


def _significant_digits(value: float) -> int:
    """The fewest significant digits that write ``value`` exactly (17 when none does)."""
    return next((d for d in range(1, 17) if float(f"{value:.{d}g}") == value), 17)


# --- var_of_product ---------------------------------------------------------------------

def _vop_tolerance(mean_x, var_x, mean_y, var_y) -> float:
    """|error| a correct float32 computation can make: 20·u·(D(X)+E(X)²)·(D(Y)+E(Y)²).

    Both correct forms stay inside it (first order in u = 2⁻²⁴; each rounded input or
    operation adds u relative). With A = D(X)+E(X)², B = D(Y)+E(Y)²:
    D(X)D(Y) + D(X)E(Y)² + D(Y)E(X)² sums three non-negative terms of ≤ 5u each (two inputs
    or three, a square, a product) with 2 additions: ≤ 7u·D(XY) ≤ 7u·A·B;
    E(X²)E(Y²) − (E(X)E(Y))² = A·B − (E(X)E(Y))² carries ≤ 4u on A and on B, so 9u on A·B;
    7u on the square (≤ A·B); 1u on the difference: ≤ 17u·A·B, rounded up to 20."""
    return 20 * c.U32 * (var_x + mean_x**2) * (var_y + mean_y**2)


#: How the drawn inputs are passed, in turn: the real numbers §5 names, Python and NumPy
#: (float32 too: its values are exact, and the reference uses them as given).
_VOP_KINDS = (float, np.float64, np.float32)


def _vop_inputs(ctx: Context, k: int):
    """Zero means, zero variances, large and small magnitudes, two int inputs, then k draws
    of (mean_x, var_x, mean_y, var_y) — means never near 0, so the mean terms matter —
    passed as float, np.float64 or np.float32 in turn."""
    r = ctx.rng(10)
    means = r.choice([-1, 1], (k, 2)) * r.uniform(0.5, 3.0, (k, 2))
    variances = r.uniform(0.2, 4.0, (k, 2))
    drawn = [(mx, vx, my, vy) for (mx, my), (vx, vy) in zip(means, variances)]
    special = [(0.0, 2.0, 0.0, 3.0), (0.0, 1.5, 2.0, 0.5), (2.0, 0.0, -3.0, 0.0), (-1.5, 0.0, 0.0, 2.0),
               (1e3, 2e4, -2e2, 5e3), (1e-3, 2e-4, 3e-3, 1e-5)]
    ints = [(0, 2, 0, 3), (2, 3, -1, 5)]
    kinds = [_VOP_KINDS[(i + ctx.seed) % len(_VOP_KINDS)] for i in range(k)]
    return special + ints + [tuple(kind(a) for a in args) for kind, args in zip(kinds, drawn)]


def _vop_interface(fn, ctx):
    calls = [(1.0, 2.0, 3.0, 4.0), (0, 2, 0, 3), (np.float32(1.5), np.float32(2.0), np.float32(-0.5), np.float32(3.0))]
    for args in calls:
        _require_real(describe_call("var_of_product", args, {}), call_student(fn, "var_of_product", *args))
    return "returns a real number for float, int and float32 inputs"


def _vop_values(fn, ctx):
    cases = _vop_inputs(ctx, 12)
    for args in cases:
        exact = tuple(float(a) for a in args)
        _compare_scalar(describe_call("var_of_product", args, {}), call_student(fn, "var_of_product", *args),
                        var_of_product(*exact), _vop_tolerance(*exact), "D(X)D(Y) + D(X)E(Y)² + D(Y)E(X)²")
    return f"{len(cases)} inputs"


VAR_OF_PRODUCT = {"interface": _vop_interface, "values": _vop_values}


# --- the 01/02 exercises: relu_moments, preactivation_variance, predict_std ----------------

def _kinds_for(ctx: Context, k: int) -> list:
    """The kind of real number (c.REAL_KINDS) each of k drawn cases is passed as, per seed."""
    return [c.REAL_KINDS[(i + ctx.seed) % len(c.REAL_KINDS)] for i in range(k)]


def _expect_exception(fn, name: str, why: str, *args) -> None:
    """A call with an argument that is not a number must raise — ValueError, or the
    TypeError Python's own arithmetic raises on it — never return a value."""
    call = describe_call(name, args, {})
    try:
        out = fn(*args)
    except NotImplementedError:
        call_student(fn, name, *args)  # reports "not implemented yet"
        raise
    except (ValueError, TypeError):
        return
    except Exception as exc:
        raise CheckFailed(f"{call} raised {type(exc).__name__}: {exc}; expected ValueError or TypeError "
                          f"({why}).") from None
    raise CheckFailed(f"{call} returned {out!r}; expected ValueError or TypeError ({why}).")


def _either(fn, name: str, args: tuple):
    """A call whose verdict the contract leaves open: (True, None) when it raised ValueError or
    TypeError, else (False, what it returned)."""
    try:
        return False, fn(*args)
    except (ValueError, TypeError):
        return True, None
    except Exception:
        return False, call_student(fn, name, *args)  # reports the student's error


# --- relu_moments -----------------------------------------------------------------------

RELU_FORMULA = "E relu(h) = μΦ(α) + σφ(α), E relu(h)² = (μ² + σ²)Φ(α) + μσφ(α), α = μ/σ"


def _rm_tolerance(mean: float, std: float) -> tuple[float, float]:
    """|error| a correct float32 computation can make on (E relu(h), E relu(h)²):
    (10·u·(|μ| + σ), 20·u·(μ² + σ²)), u = 2⁻²⁴.

    α = μ/σ carries ≤ 3u relative. Φ(α) = ½(1 + erf(α/√2)) is off by ≤ 4u *absolutely* (erf
    rounded near ±1, then 1 + erf) whatever Φ's size — a correct float32 answer loses Φ's
    relative precision in the left tail — plus φ(α)·3u|α| ≤ 0.73u from α. φ(α) = e^(−α²/2)/√(2π)
    carries ≤ (4α² + 3)u relative (the exponent α²/2 is off by ≤ 8u·α²/2). Hence
    |Δ(μΦ)| ≤ 6u|μ|, |Δ(σφ)| ≤ σ·max_α φ(α)(4α² + 5)u ≤ 2.2uσ, plus the sum's rounding
    ≤ u(|μ| + 0.4σ): ≤ 7u|μ| + 2.6uσ, rounded up to 10u(|μ| + σ). For the second moment,
    (μ² + σ²)Φ is off by ≤ 9u(μ² + σ²) and μσφ by ≤ σ²·max_α |α|φ(α)(4α² + 7)u ≤ 3.2uσ²,
    plus the sum: ≤ 14u(μ² + σ²); the form D + E² (a variance plus the squared mean, as
    relu_moments_via_ndtr writes it) adds ≤ 4u·E relu(h)² ≤ 4u(μ² + σ²): 20u(μ² + σ²)."""
    return 10 * c.U32 * (abs(mean) + std), 20 * c.U32 * (mean**2 + std**2)


def _rm_pair_values(call: str, out) -> tuple[float, float]:
    """The two numbers of any pair of real values (the exact types are the interface's
    business): (0.4, 0.5), [0.4, 0.5] and an array of two floats all give (0.4, 0.5)."""
    try:
        pair = list(out) if isinstance(out, (tuple, list, np.ndarray)) else None
    except TypeError:
        pair = None
    values = [c.as_real(v) for v in pair] if pair is not None and len(pair) == 2 else None
    if values is None or any(v is None or not math.isfinite(v) for v in values):
        raise CheckFailed(f"{call} returned {out!r}; expected a tuple of two finite real numbers "
                          "(E relu(h), E relu(h)²).")
    return values[0], values[1]


def _rm_compare(call: str, out, mean: float, std: float, what: str = RELU_FORMULA) -> None:
    got = _rm_pair_values(call, out)
    right = relu_moments(mean, std)
    for i, (g, w, tol) in enumerate(zip(got, right, _rm_tolerance(mean, std))):
        if abs(g - w) > tol:
            shown, wanted = _distinct(g, w)
            part = ("E relu(h)", "E relu(h)²")[i]
            hint = _precision_hint(out[i] if isinstance(out, tuple) and len(out) == 2 else g, g, w)
            raise CheckFailed(f"{call} returned {part} = {shown}; expected {wanted} ({what}){hint}.")


def _rm_inputs(ctx: Context, k: int) -> list:
    """Centred, shifted and tail cases (α = μ/σ from −4 to 4), tiny and large scales, ints, then
    k draws with |α| ≤ 4 passed as float, int, np.float64, np.float32 or np.int64 in turn."""
    r = ctx.rng(11)
    special = [(0.0, 1.0), (0.0, 2.5), (1.0, 2.0), (-1.5, 0.5), (-8.0, 2.0), (12.0, 3.0), (1e-3, 2e-3),
               (-300.0, 200.0), (0, 1), (-2, 3), (np.int64(3), np.int64(2))]
    drawn = []
    for kind, a, s in zip(_kinds_for(ctx, k), r.uniform(-4.0, 4.0, k), r.uniform(0.2, 4.0, k)):
        if kind in (int, np.int64):
            s = max(1.0, round(s))
            drawn.append((kind(round(a * s)), kind(s)))
        else:
            drawn.append((kind(a * s), kind(s)))
    return special + drawn


def _rm_interface(fn, ctx):
    calls = [(0.5, 1.5), (0, 2), (np.float32(0.5), np.float32(1.5)), (np.int64(-1), np.int64(2)),
             (np.float64(1.0), 0.5)]
    for args in calls:
        call = describe_call("relu_moments", args, {})
        out = call_student(fn, "relu_moments", *args)
        problem = c.real_pair_problem(out)
        if problem:
            raise CheckFailed(f"{call} returned {out!r}, {problem}; expected a tuple of two real numbers "
                              f"(E relu(h), E relu(h)²): `return first, second` — {REAL_RULE}.")
        if not all(math.isfinite(v) for v in out):
            raise CheckFailed(f"{call} returned {out!r}; expected two finite numbers.")
    return "returns a pair of real numbers for float, int, float32 and int64 inputs"


def _rm_values(fn, ctx):
    cases = _rm_inputs(ctx, 12)
    for args in cases:
        _rm_compare(describe_call("relu_moments", args, {}), call_student(fn, "relu_moments", *args),
                    float(args[0]), float(args[1]))
    mean = float(ctx.rng(14).uniform(-2.0, 2.0))
    for value in c.EITHER_NUMBERS:  # not §5's real numbers: an exception, or the right values
        for args in ((mean, value), (value, 2.0)):
            raised, out = _either(fn, "relu_moments", args)
            if not raised:
                _rm_compare(describe_call("relu_moments", args, {}), out, float(args[0]), float(args[1]),
                            "a bool, Fraction or Decimal may raise, or give the moments of the number it holds")
    return f"{len(cases)} inputs, |mean/std| ≤ 4; {2 * len(c.EITHER_NUMBERS)} bool/Fraction/Decimal arguments"


def _rm_errors(fn, ctx):
    r = ctx.rng(12)
    mean = float(r.uniform(-2.0, 2.0))
    bad_stds = [0.0, 0, -0.0, -1.0, -3, np.float32(-0.5), np.int64(0), -1e-300, -float(r.uniform(0.1, 5.0))]
    for std in bad_stds:
        expect_value_error(fn, "relu_moments", "std must be > 0: a std ≤ 0 is no normal distribution", mean, std)
    for bad in c.NOT_NUMBERS:
        _expect_exception(fn, "relu_moments", "a std must be a number > 0", mean, bad)
    return f"{len(bad_stds)} stds ≤ 0, {len(c.NOT_NUMBERS)} stds that are not numbers"


RELU_MOMENTS = {"interface": _rm_interface, "values": _rm_values, "errors": _rm_errors}


# --- preactivation_variance ---------------------------------------------------------------

PV_FORMULA = "n·D(w)·E(x²) = n·D(w)·(D(x) + E(x)²)"


def _pv_tolerance(n, var_w, mean_x, var_x) -> float:
    """|error| of a correct float32 computation: 10·u·n·D(w)·(D(x) + E(x)²). Every term is
    non-negative: n (exact below 2²⁴, else u), D(w) and E(x) rounded (u each), E(x)² (+2u),
    D(x) (u), the sum (+u) and two products (+2u) — ≤ 8u relative in any order, rounded up."""
    return 10 * c.U32 * abs(n * var_w * (var_x + mean_x**2))


def _pv_inputs(ctx: Context, k: int) -> list:
    """Kaiming and Xavier layers, zero results, a huge n, ints, then k draws (means ≠ 0 among
    them) with n an int, np.int64 or np.int32 and the rest passed as each real kind in turn."""
    r = ctx.rng(12)
    special = [(256, 2 / 256, 0.0, 0.5), (100, 0.01, 0.4, 0.34), (1, 1.0, 0.0, 0.0), (16, 0.0, 1.0, 1.0),
               (np.int64(64), 1 / 64, -2.0, 1.0), (10**6, 2e-6, 3.0, 5.0), (16, 1, 0, 2), (np.int32(3), 2, -1, 4)]
    drawn = []
    for i, kind in enumerate(_kinds_for(ctx, k)):
        n = int(r.integers(2, 2000))
        n = (int, np.int64, np.int32)[(i + ctx.seed) % 3](n)
        var_w = float(r.uniform(0.1, 2.0)) / float(r.integers(2, 2000))
        mean_x = float(r.choice([-1, 1]) * r.uniform(0.3, 3.0))
        var_x = float(r.uniform(0.1, 4.0))
        if kind in (int, np.int64):
            drawn.append((n, var_w, kind(round(mean_x)), kind(max(1, round(var_x)))))
        else:
            drawn.append((n, kind(var_w), kind(mean_x), kind(var_x)))
    return special + drawn


def _pv_interface(fn, ctx):
    calls = [(16, 0.25, 0.5, 2.0), (16, 1, 0, 2), (np.int64(16), np.float32(0.25), np.float32(0.5), np.float32(2.0)),
             (np.int32(4), np.float64(0.5), -1.0, 1.0)]
    for args in calls:
        _require_real(describe_call("preactivation_variance", args, {}),
                      call_student(fn, "preactivation_variance", *args))
    return "returns a real number for int, int64, float and float32 inputs"


def _pv_values(fn, ctx):
    cases = _pv_inputs(ctx, 12)
    for args in cases:
        exact = (int(args[0]),) + tuple(float(a) for a in args[1:])
        _compare_scalar(describe_call("preactivation_variance", args, {}),
                        call_student(fn, "preactivation_variance", *args),
                        preactivation_variance(*exact), _pv_tolerance(*exact), PV_FORMULA)
    return f"{len(cases)} layers"


def _pv_errors(fn, ctx):
    r = ctx.rng(13)
    valid = (int(r.integers(2, 500)), 0.25, float(r.uniform(-2.0, 2.0)), 1.5)
    for n in c.NOT_COUNTS:
        what = "≤ 0" if c.integer_problem(n) is None else c.integer_problem(n)
        expect_value_error(fn, "preactivation_variance", f"n counts inputs: a Python or NumPy int ≥ 1, not {what}",
                           n, *valid[1:])
    negatives = [-0.25, -1, np.float32(-2.0), -float(r.uniform(0.1, 3.0))]
    for v in negatives:
        expect_value_error(fn, "preactivation_variance", "a variance is ≥ 0", valid[0], v, valid[2], valid[3])
        expect_value_error(fn, "preactivation_variance", "a variance is ≥ 0", valid[0], valid[1], valid[2], v)
    return f"{len(c.NOT_COUNTS)} n that are not counts, {2 * len(negatives)} negative variances"


PREACTIVATION_VARIANCE = {"interface": _pv_interface, "values": _pv_values, "errors": _pv_errors}


# --- predict_std --------------------------------------------------------------------------

#: What tanh's numerical integration may be off by, relative, per layer's std: the grid of
#: 4,001 points over ±10 std is exact to ~1e-15; Gauss–Hermite with 100 nodes is off by up to
#: ~5e-5 at gain 2 (its nodes are too coarse for the steep tanh(σx)); a Monte-Carlo estimate
#: (~1e-3) is not deterministic enough. Every catalogued mistake is off by ≥ 10 % at some layer.
TANH_INTEGRATION_TOL = 1e-4
#: float32's largest finite number: a std beyond it cannot be returned in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _ps_tolerances(depth: int, activation: str) -> np.ndarray:
    """Relative tolerance on std(x_l), l = 1…depth, for a correct float32 computation:
    (5l + 8)·u, plus TANH_INTEGRATION_TOL + 48·l·u for tanh (u = 2⁻²⁴).

    The factor c = n·D(w) = width·weight_std² carries ≤ 4u (weight_std rounded, squared,
    times width); each layer multiplies E(x²) by c (and by ½ or an integral) with one more
    rounding, so E(x_l²) carries ≤ 5l·u — the recursion's relative sensitivity is 1 for linear
    and ReLU and ≤ 1 for tanh (E tanh(z)²/D(z) falls as D(z) grows), so errors add up, no
    more. std = √(E(x²) − E(x)²): ReLU's E(x)² = D(z)/(2π) cancels part of E(x²) = D(z)/2, which
    amplifies the constants' independent roundings (≤ 3u) by (1 + 1/π)/(1 − 1/π) ≈ 1.93; the
    square root halves the rest and rounds once: ≤ (2.5l + 7)u, rounded up to (5l + 8)u.
    tanh's E tanh(z)² = Σ p·tanh(σt)² in float32: ≤ 8u per term (t, σt, tanh, square), the
    weights' normalisation and the sum of 4,001 positive terms ≤ 20u each (NumPy's pairwise
    summation: ≤ (⌈log₂ 4001⌉ + 8)u) — 48u per layer, adding up over the layers as above."""
    layers = np.arange(1, depth + 1)
    tol = (5 * layers + 8) * c.U32
    if activation == "tanh":
        tol = tol + TANH_INTEGRATION_TOL + 48 * layers * c.U32
    return tol


def _beyond_float32(depth, width, weight_std, activation) -> bool:
    """Whether a layer's n·D(w)·E(x²) passes float32's range (with a 10³ margin): N(0, 1) weights."""
    stds = predict_std(int(depth), int(width), float(weight_std), activation)
    return float(np.max(stds)) ** 2 * width * float(weight_std) ** 2 * 1e3 > FLOAT32_MAX


def _ps_kinds(ctx: Context, cases: list) -> list:
    """Each case's depth and width as int or np.int64 and its weight_std as float, np.float64,
    np.float32 (where the numbers fit float32) or (when integral) int, in turn per seed."""
    out = []
    for i, (depth, width, weight_std, activation) in enumerate(cases):
        k = i + ctx.seed
        int_kind = (int, np.int64)[k % 2]
        std_kind = (float, np.float64, np.float32, int)[k % 4]
        if std_kind is int and (int_kind is not int or not float(weight_std).is_integer()):
            std_kind = float  # an int weight_std times an np.int64 width would compute in int64 and wrap
        if std_kind is np.float32 and _beyond_float32(depth, width, weight_std, activation):
            std_kind = np.float64  # NumPy computes on in float32 from a float32 weight_std: keep it where that fits
        out.append((int_kind(depth), int_kind(width), std_kind(weight_std), activation))
    return out


def _ps_output(fn, depth, width, weight_std, activation):
    """The interface rule: a float32 or float64 ndarray of shape (depth,), finite where float64 is."""
    args = (depth, width, weight_std, activation)
    call = describe_call("predict_std", args, {})
    out = call_student(fn, "predict_std", *args)
    problem = c.array_problem(out, (int(depth),))
    if problem:
        raise CheckFailed(f"{call} returned {problem}; expected a float32 or float64 ndarray of shape "
                          f"({int(depth)},): one std per layer (np.array(stds) converts a list).")
    _ps_finite(call, out, args)
    return out


def _ps_numbers(call: str, out, args) -> np.ndarray:
    """Values are judged on the numbers (a list or a (depth, 1) column holding the right ones
    passes here and fails the interface): one finite number per layer."""
    depth = int(args[0])
    try:
        numbers = np.asarray(out, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise CheckFailed(f"{call} returned {c.type_name(out)} {out!r:.60}; expected one std per layer.") from None
    if numbers.size != depth:
        raise CheckFailed(f"{call} returned {numbers.size} numbers for {depth} layers; expected one std per layer, "
                          "x_1 to x_depth (the input x_0 is not a layer).")
    _ps_finite(call, numbers, args, getattr(out, "dtype", None))
    return numbers


def _ps_finite(call: str, out: np.ndarray, args, dtype=None) -> None:
    if np.all(np.isfinite(out)):
        return
    layer = int(np.argmin(np.isfinite(out)))
    right = predict_std(int(args[0]), int(args[1]), float(args[2]), args[3])
    why = ""
    if right[layer] ** 2 * 1e3 > FLOAT32_MAX:
        held = " in your float32 array" if (dtype or out.dtype) == np.float32 else ""
        why = (f" — the std there is {right[layer]:.3g} and the variance {right[layer] ** 2:.3g}: beyond float32's "
               f"largest number {FLOAT32_MAX:.3g}{held} (the overflow of N(0, 1) weights in §2); compute and return "
               "float64 (Python floats are float64)")
    raise CheckFailed(f"{call} returned {out[layer]} at layer {layer + 1} (non-finite values from there on); "
                      f"expected finite stds{why}.")


def _ps_compare(fn, depth, width, weight_std, activation):
    args = (depth, width, weight_std, activation)
    call = describe_call("predict_std", args, {})
    out = _ps_numbers(call, call_student(fn, "predict_std", *args), args)
    right = predict_std(int(depth), int(width), float(weight_std), activation)
    tol = _ps_tolerances(int(depth), activation)
    gap = np.abs(out - right) / np.abs(right)
    if np.any(gap > tol):
        layer = int(np.argmax(gap > tol))
        shown, wanted = _distinct(float(out[layer]), float(right[layer]))
        raise CheckFailed(f"{call}: at layer {layer + 1} you predict std {shown}, the variance algebra "
                          f"gives {wanted} (D(z_l) = n·D(w)·E(x_(l−1)²), std of x_l = f(z_l); "
                          f"relative tolerance there {tol[layer]:.1e}: float32 arithmetic"
                          f"{' plus numerical integration' if activation == 'tanh' else ''}).")


def _ps_interface(fn, ctx):
    calls = [(5, 16, 0.25, "linear"), (np.int64(3), np.int64(8), np.float32(0.5), "relu"), (2, 4, 1, "tanh"),
             (1, 64, np.float64(0.125), "relu")]
    for args in calls:
        _ps_output(fn, *args)
    return "returns one std per layer, as float32 or float64, for int, int64, float and float32 arguments"


def _ps_values(fn, ctx):
    r = ctx.rng(13)
    width = int(r.choice([64, 128, 256]))
    cases = [(100, 256, 1, "linear"), (100, 256, 1.0, "relu"), (100, 256, 1 / 16, "relu"),
             (50, width, math.sqrt(2 / width), "relu"),
             (int(r.integers(10, 40)), width, float(r.uniform(0.5, 2.5)) / math.sqrt(width), "linear"),
             (int(r.integers(10, 40)), width, float(r.uniform(0.5, 2.5)) / math.sqrt(width), "relu")]
    cases = _ps_kinds(ctx, cases)
    for args in cases:
        _ps_compare(fn, *args)
    return f"{len(cases)} networks, linear and ReLU"


def _ps_arguments(fn, ctx):
    r = ctx.rng(14)
    width = int(r.choice([64, 128, 256]))
    cases = [(1, width, 2 / math.sqrt(width), "relu"), (100, 256, 1 / 16, "tanh"), (100, 256, (5 / 3) / 16, "tanh"),
             (int(r.integers(10, 60)), width, float(r.uniform(0.5, 2.0)) / math.sqrt(width), "tanh")]
    cases = _ps_kinds(ctx, cases)
    for args in cases:
        _ps_compare(fn, *args)
    return f"{len(cases)} networks, tanh and depth 1"


def _ps_errors(fn, ctx):
    misses = c.near_misses(ACTIVATIONS, ctx.rng(15))
    names = misses + [n for n in NONLINEARITIES if n not in ACTIVATIONS and n not in misses] + [None]  # + the gain table
    for name in names:
        expect_value_error(fn, "predict_std", f"activation is exactly 'linear', 'relu' or 'tanh', and {name!r} is "
                           "none of them: match the names exactly", 10, 64, 0.125, name)
    return f"{len(names)} unknown activations"


PREDICT_STD = {"interface": _ps_interface, "values": _ps_values, "arguments": _ps_arguments, "errors": _ps_errors}


# --- compute_fans -----------------------------------------------------------------------

def _fans_values_of(call: str, out) -> tuple[int, int]:
    """The two numbers of any pair of integral values (the exact types are the interface's
    business): (75, 1600), [75, 1600] and (75.0, 1600.0) all give (75, 1600)."""
    try:
        pair = list(out) if isinstance(out, (tuple, list, np.ndarray)) else None
    except TypeError:
        pair = None
    values = [c.as_real(v) for v in pair] if pair is not None and len(pair) == 2 else None
    if values is None or any(v is None or not float(v).is_integer() for v in values):
        raise CheckFailed(f"{call} returned {out!r}; expected a tuple of two ints (fan_in, fan_out).")
    return int(values[0]), int(values[1])


def _compare_fans(fn, shape, **kwargs):
    call = describe_call("compute_fans", (shape,), kwargs)
    observed = _fans_values_of(call, call_student(fn, "compute_fans", shape, **kwargs))
    expected = _tables.fans(shape, **kwargs)  # the documented table, not the library's code
    if observed != expected:
        keras_answer = _tables.fans(shape, layout="keras") if "layout" not in kwargs else None
        if observed == expected[::-1]:
            hint = (" — fan_in and fan_out swapped, or is your default layout not 'torch'?"
                    if observed == keras_answer else " — fan_in and fan_out swapped?")
        elif observed == keras_answer:
            hint = " — that is the Keras-layout answer: make layout='torch' the default."
        else:
            hint = "."
        raise CheckFailed(f"{call} returned {observed}; expected {expected}{hint}")


def _fans_shapes(ctx: Context):
    r = ctx.rng(11)
    out, inp = int(r.integers(5, 40)), int(r.integers(41, 90))
    k1, k2, k3 = (int(v) for v in r.integers(2, 6, 3))
    return [(out, inp), (inp, out), (out, inp, k1), (out, inp, k1, k2), (inp, out, k1, k2, k3), (out, 1, k2, k2)]


def _fans_interface(fn, ctx):
    calls = [((4, 3), {}), ((6, 5, 3, 3), {}), ((4, 3), {"layout": "torch"}), ((3, 3, 4, 8), {"layout": "keras"}),
             ((7, 2), {"layout": "keras"})]
    for shape, kwargs in calls:
        out = call_student(fn, "compute_fans", shape, **kwargs)
        problem = c.fans_problem(out)
        if problem:
            why = (" — np.prod of an empty tuple is the float 1.0: use math.prod, or int(...)"
                   if "float" in problem else "")
            raise CheckFailed(
                f"{describe_call('compute_fans', (shape,), kwargs)} returned {out!r}, {problem}; expected a "
                f"tuple of two integers (fan_in, fan_out), Python or NumPy ints: `return fan_in, fan_out`{why}."
            )
    return "returns a pair of ints"


def _fans_values(fn, ctx):
    shapes = _fans_shapes(ctx)
    for shape in shapes:
        _compare_fans(fn, shape)
    return f"{len(shapes)} torch-layout shapes"


def _fans_arguments(fn, ctx):
    shapes = [s[::-1] for s in _fans_shapes(ctx)] + [(), (7,), (int(ctx.rng(12).integers(2, 50)),)]
    for shape in shapes:
        _compare_fans(fn, shape, layout="keras")
    for shape in _fans_shapes(ctx)[:2]:
        _compare_fans(fn, shape, layout="torch")  # the layout passed explicitly
    return f"{len(shapes)} keras-layout shapes incl. 0-D and 1-D, layout='torch' explicitly"


def _fans_errors(fn, ctx):
    n = int(ctx.rng(13).integers(2, 50))
    for shape in [(), (5,), (n,)]:
        expect_value_error(fn, "compute_fans", f"torch layout needs at least 2 dimensions; {shape} has "
                           f"{len(shape)}", shape)
    layouts = c.near_misses(FAN_LAYOUTS, ctx.rng(14)) + [None]
    for layout in layouts:
        expect_value_error(fn, "compute_fans", f"layout is exactly 'torch' or 'keras', and {layout!r} is neither",
                           (4, 3), layout=layout)
    return f"3 short shapes, {len(layouts)} unknown layouts"


COMPUTE_FANS = {"interface": _fans_interface, "values": _fans_values,
                "arguments": _fans_arguments, "errors": _fans_errors}


# --- calculate_gain ---------------------------------------------------------------------

def _gain_tolerance(gain: float) -> float:
    """|error| of a correct float32 computation: 8·u·gain. √(2/(1+s²)) in float32: s rounded
    (u), s² (2u + u), 1+s² (+u), 2/(…) (+u), √ halves the relative error (≤ 2.5u) and rounds
    once more: ≤ 3.5u; the table's constants (5/3, √2, 3/4) are one rounding (u). 8u covers
    √2/√(1+s²) and other orders of the same operations."""
    return 8 * c.U32 * abs(gain)


def _gain_compare(fn, args, expected=None):
    call = describe_call("calculate_gain", args, {})
    expected = _tables.gain(*args) if expected is None else expected
    _compare_scalar(call, call_student(fn, "calculate_gain", *args), expected, _gain_tolerance(expected),
                    "PyTorch's gain table")


def _gain_interface(fn, ctx):
    calls = [(name,) for name in NONLINEARITIES] + [("leaky_relu", 0.2)]
    for args in calls:
        _require_real(describe_call("calculate_gain", args, {}), call_student(fn, "calculate_gain", *args))
    return f"returns a real number for all {len(NONLINEARITIES)} names"


def _gain_values(fn, ctx):
    for name in NONLINEARITIES:
        _gain_compare(fn, (name,))
    return f"{len(NONLINEARITIES)} nonlinearities"


def _gain_arguments(fn, ctx):
    slopes = c.real_slopes(ctx.rng(15))
    for slope in slopes:
        if type(slope) is np.float64:
            _gain_float64(fn, slope)
        _gain_compare(fn, ("leaky_relu", slope))
    for slope in c.EITHER:
        _gain_either(fn, slope)
    others = [n for n in NONLINEARITIES if n != "leaky_relu"]
    for name in others:
        for param in c.IGNORED_PARAMS:
            _gain_compare(fn, (name, param), _tables.gain(name))  # param is ignored off leaky_relu
    return (f"{len(slopes)} leaky slopes incl. negative, zero and large; {len(c.EITHER)} NumPy scalars; "
            f"{len(c.IGNORED_PARAMS)} ignored params × {len(others)} names")


def _gain_float64(fn, slope) -> None:
    """np.float64 is a float subclass: refusing it with ValueError (a `type(param) in (int, float)`
    test) is named as such; anything else is left to _gain_compare."""
    try:
        fn("leaky_relu", slope)
    except ValueError:
        raise CheckFailed(
            f"calculate_gain('leaky_relu', np.float64({float(slope)!r})) raised ValueError; expected "
            f"{math.sqrt(2.0 / (1.0 + float(slope) ** 2)):.4g}. np.float64 is a subclass of float "
            "(isinstance(np.float64(0.3), float) is True), so it is a valid slope: test "
            "isinstance(param, (int, float)), not type(param).") from None
    except Exception:
        pass


def _gain_either(fn, slope) -> None:
    """A NumPy scalar slope: ValueError (PyTorch's reading of 'int or float') or the right gain."""
    try:
        out = fn("leaky_relu", slope)
    except ValueError:
        return
    except Exception:
        out = call_student(fn, "calculate_gain", "leaky_relu", slope)  # reports the student's error
    expected = math.sqrt(2.0 / (1.0 + float(slope) ** 2))
    _compare_scalar(describe_call("calculate_gain", ("leaky_relu", slope), {}), out, expected,
                    _gain_tolerance(expected), "a NumPy scalar slope: its gain, or ValueError")


def _gain_errors(fn, ctx):
    names = c.near_misses(NONLINEARITIES, ctx.rng(16)) + [None]
    for name in names:
        expect_value_error(fn, "calculate_gain", f"{name!r} is not in PyTorch's table: match the names exactly",
                           name)
    for param in c.NOT_SLOPES:
        what = c.real_number_problem(param) or f"a {c.type_name(param)}"
        expect_value_error(fn, "calculate_gain", f"a slope is an int or float, not {what}", "leaky_relu", param)
    return f"{len(names)} unknown names, {len(c.NOT_SLOPES)} slopes that are not real numbers"


CALCULATE_GAIN = {"interface": _gain_interface, "values": _gain_values,
                  "arguments": _gain_arguments, "errors": _gain_errors}


# --- batch_norm -------------------------------------------------------------------------

def _bn_tolerance(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> float:
    """Absolute tolerance on (y − y_exact)/γ for a correct float32 computation, whatever dtype
    it returns. Per channel, n values with mean μ, std σ, r = |μ|/σ, z = (x − μ)/σ:

    - a sum of n float32 values is off by ≤ (n − 1)·u·Σ|xᵢ| (recursive summation, u = 2⁻²⁴),
      and Σ|xᵢ| ≤ n·σ·√(1 + r²); so μ̂ is off by ≤ (n + 1)·u·σ·√(1 + r²);
    - the one-pass variance E(x²) − μ² (the least precise correct formula) is off by
      ≤ (3n + 5)·u·σ²·(1 + r²); σ̂ by half that relatively, and z = (x − μ)/σ by |z| times it;
    - x − μ̂ adds ≤ (n + 3)·u·σ·√(1 + r²), and γ·z + β adds ≤ 2u·(|z| + |β/γ|) over γ.

    Summed and rounded up: 2(n + 4)·u·(1 + r²)·(1 + max|z|) + 2u·(max|z| + max|β/γ|), with r
    and max|z| the worst channel's. Two-pass formulas, Welford and fsum stay far inside it."""
    flat = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]).astype(np.float64)
    n = flat.shape[0]
    std = flat.std(axis=0)
    r2 = float(np.max((flat.mean(axis=0) / std) ** 2))
    z_max = float(np.max(np.abs(flat - flat.mean(axis=0)) / std))
    b_over_g = float(np.max(np.abs(beta / gamma)))
    return 2 * (n + 4) * c.U32 * (1 + r2) * (1 + z_max) + 2 * c.U32 * (z_max + b_over_g)


def _bn_source(ctx: Context, stream: int, shape, mean_range: float = 3.0, scale: float = 1.0):
    """x (channel means in ±mean_range, stds in [0.5, 2], times scale), gamma, beta — float64
    values, laid out later."""
    r = ctx.rng(20 + stream)
    channels = shape[1]
    per_channel = (1, channels) + (1,) * (len(shape) - 2)
    x = r.normal(r.uniform(-mean_range, mean_range, channels).reshape(per_channel),
                 r.uniform(0.5, 2.0, channels).reshape(per_channel), shape) * scale
    return x, r.uniform(0.5, 2.0, channels), r.normal(0, 1, channels)


def _bn_call_text(x: np.ndarray, kwargs: dict) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    return f"batch_norm(x, gamma, beta{extra}) with x of shape {x.shape} ({c.describe_layout(x)})"


def _bn_compare(fn, source, layout, *, gamma_sign: float = 1.0, beta_shift: float = 0.0, **kwargs):
    """The student's output on fresh arrays laid out as ``layout`` against the float64
    reference on the same values, within ``_bn_tolerance``."""
    x0, g0, b0 = source
    g0, b0 = gamma_sign * g0, b0 + beta_shift
    dtype, order = layout
    x, gamma, beta = (c.laid_out(a, dtype, order) for a in (x0, g0, b0))
    exact = tuple(a.astype(np.float64) for a in (x, gamma, beta))  # the values the student received
    call = _bn_call_text(x, kwargs)
    out = _bn_output(fn, call, x, gamma, beta, **kwargs)
    if not np.all(np.isfinite(out)):
        raise CheckFailed(f"{call} returned {int(np.size(out) - np.count_nonzero(np.isfinite(out)))} "
                          "non-finite values (nan or inf).")
    expected = batch_norm(*exact, **kwargs)
    g = np.reshape(exact[1], (1, -1) + (1,) * (x.ndim - 2))
    err = float(np.max(np.abs(out - expected) / np.abs(g)))
    tol = _bn_tolerance(*exact)
    if err > tol:
        i = np.unravel_index(np.argmax(np.abs(out - expected)), x.shape)
        actual, desired = _distinct(float(out[i]), float(expected[i]))
        raise CheckFailed(
            f"{call}: at index {tuple(int(v) for v in i)} ACTUAL {actual}, DESIRED "
            f"{desired}; max |error|/γ = {err:.2e} > tolerance {tol:.1e} (what float32 arithmetic can be off by)."
        )


def _bn_output(fn, call: str, x, gamma, beta, **kwargs) -> np.ndarray:
    """The student's output, insisting on one float32 or float64 ndarray of x's shape."""
    out = call_student(fn, "batch_norm", x, gamma, beta, **kwargs)
    if isinstance(out, tuple):
        raise CheckFailed(f"{call} returned a tuple of length {len(out)}; expected one ndarray of "
                          f"x's shape {x.shape} (return the normalised array only, not its mean or variance).")
    problem = c.array_problem(out, x.shape)
    if problem:
        raise CheckFailed(f"{call} returned {problem}; expected a float32 or float64 ndarray of shape {x.shape}.")
    return out


def _snapshot(a: np.ndarray):
    return a.copy(), a.shape, a.dtype, a.strides


def _bn_untouched(call: str, names, arrays, snapshots) -> None:
    """Every input as it was: same values, shape, dtype and strides."""
    for name, a, (values, shape, dtype, strides) in zip(names, arrays, snapshots):
        if a.shape != shape or a.strides != strides:
            change = f"from {shape} to {a.shape}" if a.shape != shape else f"(strides {strides} to {a.strides})"
            raise CheckFailed(
                f"{call}: batch_norm changed the shape of the caller's {name} {change} — "
                f"`{name}.shape = ...` edits the caller's array; use `{name}.reshape(...)`, which makes a new view."
            )
        if not np.array_equal(a, values):
            raise CheckFailed(
                f"{call}: batch_norm changed its input {name} in place ({name} was {c.describe_layout(a)}, "
                f"shape {shape}; e.g. `{name} -= mean`): compute into a new array (`{name} - mean` makes one) — the caller's "
                "data must stay as it was."
            )


def _bn_interface(fn, ctx):
    """Every layout: 2-D and NCHW × float64/float32 × C/F/strided. The output's type on 2-D
    (NCHW values are the arguments' business, so an exception there is not judged here) and,
    after every call, raising or not, every input untouched."""
    r = ctx.rng(24)
    n, ch, h = int(r.integers(4, 9)), int(r.integers(2, 5)), int(r.integers(3, 6))
    for ndim, shape in ((2, (n, ch)), (4, (n, ch, h, h + 1))):
        source = _bn_source(ctx, ndim, shape)
        for dtype, order in c.LAYOUTS:
            arrays = [c.laid_out(a, dtype, order) for a in source]
            snapshots = [_snapshot(a) for a in arrays]
            call = _bn_call_text(arrays[0], {})
            try:
                _bn_output(fn, call, *arrays)
            except CheckFailed:
                if ndim == 2:
                    raise
            _bn_untouched(call, ("x", "gamma", "beta"), arrays, snapshots)
    return f"returns a float ndarray of x's shape, inputs untouched on {2 * len(c.LAYOUTS)} layouts"


def _bn_values(fn, ctx):
    r = ctx.rng(25)
    cases = [(int(r.integers(16, 64)), int(r.integers(2, 9))) for _ in c.LAYOUTS]
    for i, (shape, layout) in enumerate(zip(cases, c.LAYOUTS)):
        _bn_compare(fn, _bn_source(ctx, i, shape), layout)
    small = c.LAYOUTS[ctx.seed % len(c.LAYOUTS)]
    _bn_compare(fn, _bn_source(ctx, 7, (2, 5)), small)                          # N = 2: z = ±1
    _bn_compare(fn, _bn_source(ctx, 8, (32, 4), mean_range=1.0, scale=2e-3), small)  # var ≈ eps: eps inside the root
    return f"{len(cases) + 2} 2-D inputs on {len(c.LAYOUTS)} layouts"


def _bn_arguments(fn, ctx):
    """NCHW with n = N·H·W ≤ 120 values per channel and |μ|/σ ≤ 4, so that the unbiased
    variance (off by |z|/(2n)) stays ≥ 5× the float32 tolerance; eps; signed gamma/beta."""
    r = ctx.rng(26)
    n, ch, h = int(r.integers(2, 5)), int(r.integers(2, 6)), int(r.integers(3, 6))
    layouts = [c.LAYOUTS[(ctx.seed + k) % len(c.LAYOUTS)] for k in range(4)]
    _bn_compare(fn, _bn_source(ctx, 10, (n, ch, h, h + 1), mean_range=2.0), layouts[0])  # NCHW
    _bn_compare(fn, _bn_source(ctx, 13, (n + 1, ch + 1, h + 1, h), mean_range=2.0), layouts[1])
    source = _bn_source(ctx, 11, (n, ch, h, h), scale=1e-3)
    _bn_compare(fn, source, layouts[2], eps=1e-3)                                    # eps inside the root matters
    _bn_compare(fn, _bn_source(ctx, 11, (n, ch, h, h)), layouts[3], eps=0.5)
    _bn_compare(fn, _bn_source(ctx, 12, (32, ch)), layouts[0], gamma_sign=-1.0, beta_shift=5.0)  # negative gamma
    return "NCHW on 4 layouts, eps, gamma/beta"


BATCH_NORM = {"interface": _bn_interface, "values": _bn_values, "arguments": _bn_arguments}
