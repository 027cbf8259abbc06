"""Checks of the deterministic functions: var_of_product, compute_fans, calculate_gain,
batch_norm. Their answers are exact, so the only tolerance is floating-point rounding:
~1e-10 relative in float64, and a bound derived from float32 rounding where float32 output
is a correct choice (batch_norm)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import batch_norm, calculate_gain, compute_fans, var_of_product
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
