"""Checks of the deterministic functions: var_of_product, relu_moments, preactivation_variance,
predict_std, compute_fans, calculate_gain, batch_norm. Their answers are exact, so the only
tolerance is floating-point rounding: ~1e-10 relative in float64, and a bound derived from
float32 rounding where float32 output is a correct choice (batch_norm). predict_std's tanh
layers need a numerical expectation: there the tolerance is 1e-4 relative (see PREDICT_REL_TOL)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import (batch_norm, calculate_gain, compute_fans, predict_std, preactivation_variance, relu_moments,
                var_of_product)
from ..gain import NONLINEARITIES
from ._engine import CheckFailed, Context, call_student, describe_call, expect_value_error, fmt

REL_TOL_FLOAT64 = 1e-10


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _close(observed, expected, rel=REL_TOL_FLOAT64) -> bool:
    return abs(observed - expected) <= rel * max(1.0, abs(expected))


def _compare_scalar(name, args, kwargs, observed, expected, what="value") -> None:
    call = describe_call(name, args, kwargs)
    if not _real(observed) or not math.isfinite(observed):
        raise CheckFailed(f"{call} returned {observed!r}; expected a finite float.")
    if not _close(float(observed), expected):
        shown, wanted = _distinct(float(observed), expected)
        raise CheckFailed(f"{call} returned {shown}; expected {wanted} ({what}).")


def _distinct(observed: float, expected: float) -> tuple[str, str]:
    """Both numbers with as many digits as it takes to tell them apart (4 at least):
    1.41414 vs 1.41421 must not print as 1.414 twice."""
    for digits in range(4, 18):
        a, b = f"{observed:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            return a, b
    return repr(observed), repr(expected)


# --- var_of_product ---------------------------------------------------------------------

def _vop_inputs(ctx: Context, k: int):
    r = ctx.rng(10)
    means = r.choice([-1, 1], (k, 2)) * r.uniform(0.5, 3.0, (k, 2))  # never near 0: mean terms matter
    variances = r.uniform(0.2, 4.0, (k, 2))
    return [(float(mx), float(vx), float(my), float(vy))
            for (mx, my), (vx, vy) in zip(means, variances)]


def _vop_interface(fn, ctx):
    args = (1.0, 2.0, 3.0, 4.0)
    out = call_student(fn, "var_of_product", *args)
    if not _real(out) or not math.isfinite(out):
        raise CheckFailed(
            f"{describe_call('var_of_product', args, {})} returned {type(out).__name__} {out!r}; "
            "expected a finite float."
        )
    return "returns a float"


def _vop_values(fn, ctx):
    cases = [(0.0, 2.0, 0.0, 3.0), (0.0, 1.5, 2.0, 0.5)] + _vop_inputs(ctx, 12)
    for args in cases:
        _compare_scalar("var_of_product", args, {}, call_student(fn, "var_of_product", *args),
                        var_of_product(*args), "D(X)D(Y) + D(X)E(Y)² + D(Y)E(X)²")
    return f"{len(cases)} inputs"


VAR_OF_PRODUCT = {"interface": _vop_interface, "values": _vop_values}


# --- relu_moments -----------------------------------------------------------------------

RELU_FORMULA = "E relu(h) = μΦ(α) + σφ(α), E relu(h)² = (μ² + σ²)Φ(α) + μσφ(α), α = μ/σ"


def _rm_call(fn, *args):
    out = call_student(fn, "relu_moments", *args)
    if not (isinstance(out, tuple) and len(out) == 2 and all(_real(v) and math.isfinite(v) for v in out)):
        raise CheckFailed(f"{describe_call('relu_moments', args, {})} returned {out!r}; expected a tuple of two "
                          "finite floats (E relu(h), E relu(h)²).")
    return tuple(float(v) for v in out)


def _rm_interface(fn, ctx):
    _rm_call(fn, 0.5, 1.5)
    return "returns a pair of floats"


def _rm_values(fn, ctx):
    r = ctx.rng(11)
    stds = r.uniform(0.2, 4.0, 12)
    cases = [(0.0, 1.0), (0.0, 2.5), (1.0, 2.0), (-1.5, 0.5)] + \
        [(float(a * s), float(s)) for a, s in zip(r.uniform(-3.0, 3.0, 12), stds)]   # |μ/σ| ≤ 3
    for args in cases:
        got, right = _rm_call(fn, *args), relu_moments(*args)
        if not all(_close(g, w) for g, w in zip(got, right)):
            raise CheckFailed(f"{describe_call('relu_moments', args, {})} returned ({fmt(got[0])}, {fmt(got[1])}); "
                              f"expected ({fmt(right[0])}, {fmt(right[1])}) ({RELU_FORMULA}).")
    return f"{len(cases)} inputs"


def _rm_errors(fn, ctx):
    expect_value_error(fn, "relu_moments", "std must be > 0", 1.0, 0.0)
    expect_value_error(fn, "relu_moments", "std must be > 0", 0.0, -1.0)
    return "2 bad calls"


RELU_MOMENTS = {"interface": _rm_interface, "values": _rm_values, "errors": _rm_errors}


# --- preactivation_variance ---------------------------------------------------------------

def _pv_interface(fn, ctx):
    args = (16, 0.25, 0.5, 2.0)
    out = call_student(fn, "preactivation_variance", *args)
    if not _real(out) or not math.isfinite(out):
        raise CheckFailed(f"{describe_call('preactivation_variance', args, {})} returned {type(out).__name__} "
                          f"{out!r}; expected a finite float.")
    return "returns a float"


def _pv_values(fn, ctx):
    r = ctx.rng(12)
    cases = [(256, 2 / 256, 0.0, 0.5), (100, 0.01, 0.4, 0.34)] + [
        (int(n), float(vw), float(m), float(vx)) for n, vw, m, vx in zip(
            r.integers(2, 2000, 12), r.uniform(0.1, 2.0, 12) / r.integers(2, 2000, 12),
            r.choice([-1, 1], 12) * r.uniform(0.3, 3.0, 12), r.uniform(0.1, 4.0, 12))]
    for args in cases:
        _compare_scalar("preactivation_variance", args, {}, call_student(fn, "preactivation_variance", *args),
                        preactivation_variance(*args), "n·D(w)·E(x²) = n·D(w)·(D(x) + E(x)²)")
    return f"{len(cases)} inputs"


PREACTIVATION_VARIANCE = {"interface": _pv_interface, "values": _pv_values}


# --- predict_std --------------------------------------------------------------------------

#: Relative tolerance per layer. tanh needs E tanh(z)² numerically: a grid of 4,001 points over
#: ±10 std is exact to ~1e-15, Gauss–Hermite with 100 nodes to ~5e-5 at gain 2 (its nodes are
#: too coarse for the steep tanh(σx)); a Monte-Carlo estimate (~1e-3) is not deterministic
#: enough. Every catalogued mistake is off by ≥ 10 % at some layer.
PREDICT_REL_TOL = 1e-4


def _ps_output(fn, depth, width, weight_std, activation):
    """The student's predictions, insisting on a finite float array of one std per layer."""
    args = (depth, width, weight_std, activation)
    call = describe_call("predict_std", args, {})
    out = call_student(fn, "predict_std", *args)
    if not isinstance(out, np.ndarray) or out.shape != (depth,) or out.dtype.kind != "f":
        raise CheckFailed(f"{call} returned {type(out).__name__} of shape {getattr(out, 'shape', None)}; "
                          f"expected a float ndarray of shape ({depth},): one std per layer.")
    if not np.all(np.isfinite(out)):
        raise CheckFailed(f"{call} returned non-finite values from layer {int(np.argmin(np.isfinite(out))) + 1} on; "
                          "expected finite stds (float64 holds them for these arguments).")
    return out


def _ps_compare(fn, depth, width, weight_std, activation):
    args = (depth, width, weight_std, activation)
    call = describe_call("predict_std", args, {})
    out, right = _ps_output(fn, *args), predict_std(*args)
    gap = np.abs(out - right) / np.abs(right)
    if np.max(gap) > PREDICT_REL_TOL:
        layer = int(np.argmax(gap > PREDICT_REL_TOL))
        raise CheckFailed(f"{call}: at layer {layer + 1} you predict std {fmt(out[layer])}, the variance algebra "
                          f"gives {fmt(right[layer])} (D(z_l) = n·D(w)·E(x_(l−1)²), std of x_l = f(z_l); "
                          f"tolerance {PREDICT_REL_TOL:g} relative).")


def _ps_interface(fn, ctx):
    _ps_output(fn, 5, 16, 0.25, "linear")
    return "returns one std per layer"


def _ps_values(fn, ctx):
    r = ctx.rng(13)
    width = int(r.choice([64, 128, 256]))
    cases = [(100, 256, 1.0, "linear"), (100, 256, 1.0, "relu"), (100, 256, 1 / 16, "relu"),
             (50, width, math.sqrt(2 / width), "relu"),
             (int(r.integers(10, 40)), width, float(r.uniform(0.5, 2.5)) / math.sqrt(width), "linear"),
             (int(r.integers(10, 40)), width, float(r.uniform(0.5, 2.5)) / math.sqrt(width), "relu")]
    for args in cases:
        _ps_compare(fn, *args)
    return f"{len(cases)} networks, linear and ReLU"


def _ps_arguments(fn, ctx):
    r = ctx.rng(14)
    width = int(r.choice([64, 128, 256]))
    cases = [(1, width, 2 / math.sqrt(width), "relu"), (100, 256, 1 / 16, "tanh"), (100, 256, (5 / 3) / 16, "tanh"),
             (int(r.integers(10, 60)), width, float(r.uniform(0.5, 2.0)) / math.sqrt(width), "tanh")]
    for args in cases:
        _ps_compare(fn, *args)
    return f"{len(cases)} networks, tanh and depth 1"


def _ps_errors(fn, ctx):
    expect_value_error(fn, "predict_std", "activation is 'linear', 'relu' or 'tanh'", 10, 64, 0.125, "sigmoid")
    expect_value_error(fn, "predict_std", "activation names are lower case", 10, 64, 0.125, "ReLU")
    return "2 bad calls"


PREDICT_STD = {"interface": _ps_interface, "values": _ps_values, "arguments": _ps_arguments, "errors": _ps_errors}


# --- compute_fans -----------------------------------------------------------------------

def _fans_call(fn, shape, **kwargs):
    out = call_student(fn, "compute_fans", shape, **kwargs)
    call = describe_call("compute_fans", (shape,), kwargs)
    ok = (isinstance(out, tuple) and len(out) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in out))
    if not ok:
        raise CheckFailed(f"{call} returned {out!r}; expected a tuple of two ints (fan_in, fan_out).")
    return tuple(int(v) for v in out)


def _compare_fans(fn, shape, **kwargs):
    observed, expected = _fans_call(fn, shape, **kwargs), compute_fans(shape, **kwargs)
    if observed != expected:
        keras_answer = compute_fans(shape, layout="keras") if "layout" not in kwargs else None
        if observed == expected[::-1]:
            hint = (" — fan_in and fan_out swapped, or is your default layout not 'torch'?"
                    if observed == keras_answer else " — fan_in and fan_out swapped?")
        elif observed == keras_answer:
            hint = " — that is the Keras-layout answer: make layout='torch' the default."
        else:
            hint = "."
        raise CheckFailed(
            f"{describe_call('compute_fans', (shape,), kwargs)} returned {observed}; "
            f"expected {expected}{hint}"
        )


def _fans_shapes(ctx: Context):
    r = ctx.rng(11)
    out, inp = int(r.integers(5, 40)), int(r.integers(41, 90))
    k1, k2, k3 = (int(v) for v in r.integers(2, 6, 3))
    return [(out, inp), (inp, out), (out, inp, k1), (out, inp, k1, k2), (inp, out, k1, k2, k3), (out, 1, k2, k2)]


def _fans_interface(fn, ctx):
    _fans_call(fn, (4, 3))
    _fans_call(fn, (3, 3, 4, 8), layout="keras")
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
    return f"{len(shapes)} keras-layout shapes incl. 0-D and 1-D"


def _fans_errors(fn, ctx):
    expect_value_error(fn, "compute_fans", "torch layout needs at least 2 dimensions", (5,))
    expect_value_error(fn, "compute_fans", "torch layout needs at least 2 dimensions", ())
    expect_value_error(fn, "compute_fans", "layout is 'torch' or 'keras'", (4, 3), layout="tf")
    return "3 bad calls"


COMPUTE_FANS = {"interface": _fans_interface, "values": _fans_values,
                "arguments": _fans_arguments, "errors": _fans_errors}


# --- calculate_gain ---------------------------------------------------------------------

def _gain_compare(fn, *args):
    out = call_student(fn, "calculate_gain", *args)
    _compare_scalar("calculate_gain", args, {}, out, calculate_gain(*args), "PyTorch's gain table")


def _gain_interface(fn, ctx):
    out = call_student(fn, "calculate_gain", "tanh")
    if not _real(out):
        raise CheckFailed(f"calculate_gain('tanh') returned {out!r}; expected a float.")
    return "returns a float"


def _gain_values(fn, ctx):
    for name in NONLINEARITIES:
        _gain_compare(fn, name)
    return f"{len(NONLINEARITIES)} nonlinearities"


def _gain_arguments(fn, ctx):
    slopes = [0.0, 0.2, 1.0, 3, float(ctx.rng(13).uniform(0.05, 5.0))]
    for slope in slopes:
        _gain_compare(fn, "leaky_relu", slope)
    for name, param in [("relu", 0.5), ("tanh", 3.0), ("linear", 2.0), ("selu", 0.3), ("sigmoid", 4)]:
        _gain_compare(fn, name, param)  # param is ignored off leaky_relu
    return f"{len(slopes)} leaky slopes, 5 ignored params"


def _gain_errors(fn, ctx):
    for args, why in [(("gelu",), "'gelu' is not in the table"), (("ReLU",), "names are lower case"),
                      (("leaky_relu", True), "a bool is not a slope"),
                      (("leaky_relu", "0.1"), "a string is not a slope")]:
        expect_value_error(fn, "calculate_gain", why, *args)
    return "4 bad calls"


CALCULATE_GAIN = {"interface": _gain_interface, "values": _gain_values,
                  "arguments": _gain_arguments, "errors": _gain_errors}


# --- batch_norm -------------------------------------------------------------------------

def _bn_tolerance(x: np.ndarray, dtype) -> float:
    """Absolute tolerance on y/γ, with r = max |μ|/σ over channels. float64: 1e-10·(1 + r²).
    float32: each of the N inputs carries a relative rounding error 2⁻²⁴ and the sums over
    N values add up to N·2⁻²⁴ relative; a correct one-pass variance E(x²) − E(x)² loses a
    further factor (μ² + σ²)/σ², so the error on (x − μ)/σ is below c·N·2⁻²⁴·(1 + r²), c = 8
    covering the few roundings per value (two-pass formulas stay far inside it)."""
    r2 = float(np.max((x.mean(axis=0) / x.std(axis=0)) ** 2))
    if dtype == np.float32:
        return 8 * x.shape[0] * 2.0**-24 * (1.0 + r2)
    return REL_TOL_FLOAT64 * (1.0 + r2)


def _bn_inputs(ctx: Context, stream: int, shape):
    r = ctx.rng(20 + stream)
    channels = shape[1]
    x = r.normal(r.uniform(-3, 3, channels).reshape((1, channels) + (1,) * (len(shape) - 2)),
                 r.uniform(0.5, 2.0, channels).reshape((1, channels) + (1,) * (len(shape) - 2)), shape)
    return x, r.uniform(0.5, 2.0, channels), r.normal(0, 1, channels)


def _bn_compare(fn, x, gamma, beta, **kwargs):
    extra = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    call = f"batch_norm(x, gamma, beta{extra}) with x of shape {x.shape}"
    out = _bn_output(fn, call, x, gamma, beta, **kwargs)
    if not np.issubdtype(out.dtype, np.floating) or not np.all(np.isfinite(out)):
        raise CheckFailed(f"{call} returned dtype {out.dtype} with non-finite values or not float.")
    expected = batch_norm(x, gamma, beta, **kwargs)
    g = np.reshape(gamma, (1, -1) + (1,) * (x.ndim - 2))
    err = float(np.max(np.abs(out - expected) / np.abs(g)))
    flat = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    tol = _bn_tolerance(flat, out.dtype)
    if err > tol:
        i = np.unravel_index(np.argmax(np.abs(out - expected)), x.shape)
        actual, desired = _distinct(float(out[i]), float(expected[i]))
        raise CheckFailed(
            f"{call}: at index {tuple(int(v) for v in i)} ACTUAL {actual}, DESIRED "
            f"{desired}; max |error|/γ = {err:.2e} > tolerance {tol:.1e}."
        )


def _bn_output(fn, call: str, x, gamma, beta, **kwargs) -> np.ndarray:
    """The student's output on copies of the inputs (so an in-place edit cannot change what the
    check compares against), insisting on one ndarray of x's shape."""
    out = call_student(fn, "batch_norm", x.copy(), gamma.copy(), beta.copy(), **kwargs)
    if isinstance(out, tuple):
        raise CheckFailed(f"{call} returned a tuple of length {len(out)}; expected one ndarray of "
                          f"x's shape {x.shape} (return the normalised array only, not its mean or variance).")
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        raise CheckFailed(f"{call} returned {type(out).__name__} of shape {getattr(out, 'shape', None)}; "
                          f"expected an ndarray of shape {x.shape}.")
    return out


def _bn_interface(fn, ctx):
    x, g, b = _bn_inputs(ctx, 0, (6, 3))
    _bn_output(fn, f"batch_norm(x, gamma, beta) with x of shape {x.shape}", x, g, b)
    copies = x.copy(), g.copy(), b.copy()
    call_student(fn, "batch_norm", *copies)
    for name, before, after in zip(("x", "gamma", "beta"), (x, g, b), copies):
        if not np.array_equal(before, after):
            raise CheckFailed(
                f"batch_norm changed its input {name} in place (e.g. `x -= mean`): compute into a new "
                "array (`x - mean` makes one) — the caller's data must stay as it was."
            )
    return "returns an array of x's shape, inputs untouched"


def _bn_values(fn, ctx):
    r = ctx.rng(25)
    shapes = [(int(r.integers(16, 64)), int(r.integers(2, 9))) for _ in range(3)] + [(2, 5)]
    for i, shape in enumerate(shapes):
        _bn_compare(fn, *_bn_inputs(ctx, i, shape))
    return f"{len(shapes)} 2-D inputs"


def _bn_arguments(fn, ctx):
    r = ctx.rng(26)
    n, c, h = int(r.integers(2, 9)), int(r.integers(2, 6)), int(r.integers(3, 7))
    _bn_compare(fn, *_bn_inputs(ctx, 10, (n, c, h, h + 1)))          # NCHW
    x, g, b = _bn_inputs(ctx, 11, (n, c, h, h))
    _bn_compare(fn, x * 1e-3, g, b, eps=1e-3)                        # eps inside the root matters
    _bn_compare(fn, x, g, b, eps=0.5)
    x2, g2, b2 = _bn_inputs(ctx, 12, (32, c))
    _bn_compare(fn, x2, -g2, b2 + 5.0)                               # negative gamma, shifted beta
    return "NCHW, eps, gamma/beta"


BATCH_NORM = {"interface": _bn_interface, "values": _bn_values, "arguments": _bn_arguments}
