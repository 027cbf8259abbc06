"""Checks of ``orthogonal``: interface, orthogonality, distribution (Haar), arguments,
errors, rng.

Haar test. If W = g·Q with Q Haar-distributed and rows ≤ cols, each row of Q is uniform on
the unit sphere of R^cols, so Q₀₀² ~ Beta(1/2, (cols−1)/2) with a symmetric sign (columns
when rows > cols). One entry per matrix keeps the samples independent; dividing by the row
(column) norm standardises away the gain. KS against that exact CDF (DKW threshold) plus an
exact binomial test on the sign catch a Q without the sign(diag R) fix, whose Q₀₀ is
always of one sign.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from . import _stats
from . import _engine
from ._engine import CheckFailed, Context, call_for_array, describe_for, expect_value_error, fmt
from ._random import assert_rng_discipline

NAME = "orthogonal"
N_HAAR = 1500  # matrices for the Haar test: KS threshold √(ln(2/α)/(2n)) ≈ 0.07


def _shapes(ctx: Context) -> list:
    r = ctx.rng(30)
    rows, cols = int(r.integers(8, 24)), int(r.integers(30, 60))
    return [(rows, cols), (cols, rows), (rows, rows)]


def _gram_error(w: np.ndarray, gain: float) -> float:
    m = w.reshape(w.shape[0], -1).astype(np.float64)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    return float(np.max(np.abs(gram - gain**2 * np.eye(len(gram))))) / gain**2


def _tolerance(w: np.ndarray) -> float:
    """float64: 1e-10; float32: a Gram entry sums k products each rounded at 2⁻²⁴ relative:
    k·2⁻²³ with k the long side, doubled for safety."""
    k = max(w.shape[0], w.size // max(w.shape[0], 1))
    return 1e-10 if w.dtype == np.float64 else 4 * k * 2.0**-24


def _assert_orthogonal(fn, shape, rng, **kwargs):
    gain = kwargs.get("gain", 1.0)
    w = call_for_array(fn, NAME, shape, rng=rng, **kwargs)
    err, tol = _gram_error(w, gain), _tolerance(w)
    if err > tol:
        m = w.reshape(w.shape[0], -1)
        which = "W·Wᵀ" if m.shape[0] <= m.shape[1] else "Wᵀ·W"
        norms = np.linalg.norm(m, axis=1 if m.shape[0] <= m.shape[1] else 0)
        raise CheckFailed(
            f"{describe_for(fn, NAME, (shape,), {'rng': rng, **kwargs})}: {which} should be "
            f"gain²·I = {fmt(gain**2)}·I, but differs from it by up to {err * gain**2:.3g} "
            f"(tolerance {tol * gain**2:.1e}); its rows/columns have norms "
            f"{fmt(norms.min())}…{fmt(norms.max())}, expected {fmt(gain)}."
        )


def _shape_for(fn, shape: tuple) -> tuple:
    """Keras-layout initializers are graded on 2-D shapes only (COURSE.md §5): the torch
    shape (rows, *rest) becomes (rows, prod(rest)), the same matrix in either layout."""
    if getattr(fn, "layout", "torch") == "keras":
        return (shape[0], math.prod(shape[1:]))
    return shape


def interface(fn, ctx):
    for shape in [(4, 3), _shape_for(fn, (3, 2, 2))]:
        call_for_array(fn, NAME, shape, rng=np.random.default_rng(ctx.seed))
        call_for_array(fn, NAME, shape)
    extra = getattr(fn, "extra_interface", None)  # e.g. a Keras class's get_config
    return "2 shapes" + (f", {extra()}" if extra else "")


def orthogonality(fn, ctx):
    rng = ctx.rng(1)
    shapes = _shapes(ctx)
    for shape in shapes:
        _assert_orthogonal(fn, shape, rng)
    return f"{len(shapes)} shapes (wide, tall, square)"


def _haar_cdf(x: np.ndarray, dim: int) -> np.ndarray:
    """CDF of one coordinate of a uniform point on the sphere in R^dim."""
    tail = special.betainc(0.5, (dim - 1) / 2, x**2)
    return 0.5 + 0.5 * np.sign(x) * tail


def distribution(fn, ctx):
    rng = ctx.rng(2)
    rows, cols = 3, 5
    alpha = ctx.alpha / 2
    first = np.empty(N_HAAR)
    for i in range(N_HAAR):
        w = call_for_array(fn, NAME, (rows, cols), rng=rng)
        first[i] = w[0, 0] / np.linalg.norm(w[0])  # standardised: gain and scale cancel
    positive = int(np.sum(first > 0))
    n = len(first)
    d = _stats.ks_distance(_haar_cdf(np.sort(first), cols))
    if _engine.recording():
        _record_haar_p_values(positive, d, n, ctx)
    lo, hi = _stats.binomial_interval(N_HAAR, alpha / 2)
    if not lo <= positive <= hi:
        raise CheckFailed(
            f"W[0, 0] was positive in {positive} of {N_HAAR} matrices of shape ({rows}, {cols}); "
            f"a Haar-distributed W is positive half the time ([{lo}, {hi}] with near certainty) "
            "— did you multiply Q's columns by the signs of R's diagonal?"
        )
    limit = _stats.ks_threshold(n, alpha / 2)
    if d > limit:
        raise CheckFailed(
            f"W[0, 0]/‖W[0]‖ over {n} matrices of shape ({rows}, {cols}) is {d:.3f} away (KS) from "
            f"a coordinate of a uniform point on the sphere (limit {limit:.3f}): your matrices are "
            "orthogonal but not Haar-distributed — QR of a Gaussian matrix gives the right law."
        )
    return f"{n} matrices: sign symmetry and KS of W[0, 0]"


def _record_haar_p_values(positive: int, d: float, n: int, ctx: Context) -> None:
    """The sign count is discrete, so its plain p-value is not uniform; the randomised
    p-value P(|K − n/2| > |k − n/2|) + U·P(|K − n/2| = |k − n/2|) is exactly uniform."""
    from scipy import stats

    dev = abs(positive - n / 2)
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, 0.5)
    more, tie = pmf[np.abs(k - n / 2) > dev].sum(), pmf[np.abs(k - n / 2) == dev].sum()
    _engine.record("distribution/sign-symmetry", min(1.0, more + ctx.rng(99).uniform() * tie))
    _engine.record("distribution/ks-haar-coordinate", _stats.ks_p_value(d, n))


def arguments(fn, ctx):
    r = ctx.rng(31)
    rng = ctx.rng(3)
    rows, k = int(r.integers(4, 12)), int(r.choice([2, 3]))
    cases = [((rows, 3, k, k), {"gain": 2.0}), ((rows * 9, 2, k), {"gain": 0.5}),
             ((rows, rows * 3), {"gain": math.sqrt(2.0)}), ((rows * 3, rows), {"gain": 3.0})]
    for shape, kwargs in cases:
        _assert_orthogonal(fn, _shape_for(fn, shape), rng, **kwargs)
    return f"{len(cases)} shapes (conv, tall, wide) and gains"


def errors(fn, ctx):
    for shape in [(5,), ()]:
        expect_value_error(fn, NAME, "orthogonal needs at least 2 dimensions", shape, rng=np.random.default_rng(0))
    return "2 bad shapes"


def rng_aspect(fn, ctx):
    return assert_rng_discipline(fn, NAME, (5, 3), ctx)


ORTHOGONAL = {"interface": interface, "orthogonality": orthogonality,
              "distribution": distribution, "arguments": arguments, "errors": errors,
              "rng": rng_aspect}
