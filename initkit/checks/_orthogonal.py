"""Checks of ``orthogonal``: interface, orthogonality, distribution (Haar), arguments,
errors, rng.

Haar test (``distribution``): on whole matrices, not on one entry — W[0, 0] depends on the
first column only, so a sign fix applied to that column alone, one global sign, or QR of a
non-Gaussian matrix passed a test of it. The statistics and their exact null laws are in
``distribution``'s docstring: signs of the diagonal (all together, per position, neighbours
agreeing), signs of determinants, the fourth moment of the unit rows/columns, and a KS of one
diagonal entry per matrix. Their power, measured, is in ``initkit/mistakes/orthogonal.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _stats
from . import _engine
from ._engine import CheckFailed, Context, call_for_array, calls_for_array, describe_for, expect_value_error, fmt
from ._random import assert_rng_discipline

NAME = "orthogonal"
N_PER_SHAPE = 500  # matrices per shape in the Haar test (3 shapes): 1,500 calls, ~1.4 CPU-s through Keras


def _shapes(ctx: Context) -> list:
    r = ctx.rng(30)
    rows, cols = int(r.integers(8, 24)), int(r.integers(30, 60))
    return [(rows, cols), (cols, rows), (rows, rows)]


def _gram_error(w: np.ndarray, gain: float) -> float:
    m = w.reshape(w.shape[0], -1).astype(np.float64)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    return float(np.max(np.abs(gram - gain**2 * np.eye(len(gram))))) / gain**2


def _tolerance(w: np.ndarray) -> float:
    """The least precise correct computation's (COURSE.md §5), whatever dtype comes back: a
    float32 Gram entry sums k products each rounded at 2⁻²⁴ relative — k·2⁻²³ with k the long
    side, doubled for safety. A float64 answer gets the same bound: A(AᵀA)^−½ is orthonormal
    only to ~κ(A)²·2⁻⁵², which passed 1e-10 at just 493 of 500 seeds on square shapes (κ in the
    thousands now and then); a wrong answer misses orthogonality by far more (or not at all:
    the Haar test, not this aspect, judges how the matrix was drawn)."""
    k = max(w.shape[0], w.size // max(w.shape[0], 1))
    return 4 * k * 2.0**-24


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


def fourth_moment_law(m: int) -> tuple[float, float]:
    """(mean, variance) of S = Σᵢ qᵢ⁴ for q uniform on the unit sphere of R^m.

    (q₁², …, q_m²) ~ Dirichlet(½, …, ½), whose moments are
    E qᵢ⁴ = 3/(m(m+2)), E qᵢ⁸ = 105/D, E qᵢ⁴q_k⁴ = 9/D (i ≠ k), D = m(m+2)(m+4)(m+6); so
    E S = 3/(m+2) and E S² = (105m + 9m(m−1))/D = (9m + 96)/((m+2)(m+4)(m+6)).
    S ∈ [1/m, 1] (1/m for a flat vector, 1 for a coordinate axis).
    """
    mean = 3 / (m + 2)
    second = (9 * m + 96) / ((m + 2) * (m + 4) * (m + 6))
    return mean, second - mean**2


def fourth_moment_mean_variance(m: int, k: int) -> float:
    """Variance of the mean of S over k orthonormal columns of a Haar matrix (m rows).

    Two columns: given q₁, q₂ is uniform on the unit sphere of q₁^⊥ (dimension m − 1), and a
    coordinate of such a vector has E (e_lᵀq₂)⁴ = 3‖P e_l‖⁴/((m−1)(m+1)), P = I − q₁q₁ᵀ,
    ‖P e_l‖² = 1 − q_l1². So E[S₂ | q₁] = 3(m − 2 + S₁)/(m² − 1) and
    Cov(S₁, S₂) = 3((m − 2)·E S + E S²)/(m² − 1) − (E S)²; the mean of k exchangeable columns
    has variance (v + (k − 1)·Cov)/k.
    """
    mean, var = fourth_moment_law(m)
    if k == 1:
        return var
    cov = 3 * ((m - 2) * mean + var + mean**2) / (m * m - 1) - mean**2
    return (var + (k - 1) * cov) / k


def _distribution_shapes(ctx: Context) -> list:
    """Three small shapes (wide, tall, even square): few diagonal positions, so a sign bias at
    one position is not diluted; spheres of dimension 6–9 for the fourth-moment test."""
    r = ctx.rng(32)
    wide = (int(r.integers(2, 5)), int(r.integers(6, 10)))
    tall = (int(r.integers(6, 10)), int(r.integers(2, 5)))
    square = (int(r.choice([4, 6])),) * 2
    return [wide, tall, square]


@dataclass
class _HaarSample:
    """What the distribution aspect keeps of each shape's N_PER_SHAPE matrices."""

    shape: tuple
    diag_positive: np.ndarray   # (N, k) booleans: W[j, j] > 0
    det_positive: np.ndarray | None  # (N,) booleans, even square shapes only
    first_column: np.ndarray    # (N,) Σᵢ qᵢ⁴ of the first unit vector (row of a wide W, column of a tall W)
    column_mean: np.ndarray     # (N,) the mean over all k unit vectors of Σᵢ qᵢ⁴
    coordinate: np.ndarray      # (N,) F_m(W[j, j]/‖its unit vector‖), j = matrix index mod k: U(0, 1) if Haar

    @property
    def sphere(self) -> int:
        return max(self.shape)


def _haar_sample(fn, shape: tuple, rng: np.random.Generator) -> _HaarSample:
    rows, cols = shape
    k, m = min(shape), max(shape)
    diag, det, first, mean, coord = (np.empty((N_PER_SHAPE, k), bool), [], np.empty(N_PER_SHAPE),
                                     np.empty(N_PER_SHAPE), np.empty(N_PER_SHAPE))
    for i, w in enumerate(calls_for_array(fn, NAME, shape, N_PER_SHAPE, rng=rng)):
        w = w.astype(np.float64)
        diag[i] = np.diagonal(w) > 0
        if rows == cols and rows % 2 == 0:
            det.append(np.linalg.det(w) > 0)  # g^n·det Q with n even: the gain's sign cancels
        tall = w if rows >= cols else w.T  # its k columns are the unit vectors (× gain)
        norms = np.linalg.norm(tall, axis=0)
        if not np.all(norms > 0):
            raise CheckFailed(f"{describe_for(fn, NAME, (shape,), {'rng': rng})} returned a zero "
                              f"{'column' if rows >= cols else 'row'}: W must be gain·(orthonormal).")
        q = tall / norms
        s4 = np.sum(q**4, axis=0)
        first[i], mean[i] = s4[0], s4.mean()
        j = i % k
        coord[i] = q[j, j]
    return _HaarSample(shape, diag, np.array(det) if det else None, first, mean, _haar_cdf(coord, m))


def distribution(fn, ctx):
    """Haar test on whole matrices: N_PER_SHAPE independent matrices of each of three shapes.

    Why these statistics (their null laws are exact under Haar): a Haar Q is invariant under
    Q → QD and Q → DQ for any diagonal ±1 matrix D, so the signs of its diagonal entries are
    i.i.d. fair coins, independent of their sizes. Hence

    1. #{W_jj > 0} over all matrices ~ Bin(Σ k, ½)               (no sign fix: too few positives);
    2. per position (shape, j): #{W_jj > 0} ~ Bin(N, ½), K positions (a fix on some columns only);
    3. #{sign W_jj = sign W_j+1,j+1} ~ Bin(Σ (k − 1), ½)          (one global sign, from R[0, 0]);
    4. even square shapes: #{det W > 0} ~ Bin(N, ½) — det Q = ±1 each with probability ½ on
       O(n) (flip one column), and g^n > 0 for n even;
    5. fourth moment: each unit vector q (a row of a wide W, a column of a tall one) is uniform
       on S^{m−1}, so S = Σᵢ qᵢ⁴ has the mean and variance of ``fourth_moment_law``. For the
       first unit vector (QR of A leaves it A[:, 0]/‖A[:, 0]‖: a non-Gaussian A shows most
       there) and for the mean over the k vectors (its exact variance from the covariance of
       two orthonormal columns, ``fourth_moment_mean_variance``). Bernstein for the sum over
       matrices, ``_stats.bernstein_sum_interval``, with the one-sided ranges 1 − μ and μ − 1/m.
    6. KS: u = F_m(W_jj/‖its unit vector‖), one entry per matrix (j cycling over the
       diagonal), is U(0, 1) — i.i.d. across matrices; DKW.

    α: six sub-tests, α/6 each (Bonferroni, which needs no independence between them — det and
    the diagonal signs are dependent); the K per-position tests get α/(6K) each, the two
    fourth-moment statistics α/12 each. Null laws verified by simulation: the diagonal sign
    patterns of initkit's matrices and scipy.stats.ortho_group's are uniform over {±1}^k and
    det > 0 half the time (χ², 20,000 draws); the p-values of all seven statistics are uniform
    over the seeds (calibration/null-p-values-*-orthogonal.csv).
    """
    rng = ctx.rng(2)
    a6 = ctx.alpha / 6
    samples = [_haar_sample(fn, shape, rng) for shape in _distribution_shapes(ctx)]
    found = [test(samples, a6, ctx, fn) for test in (_fourth_moment, _diagonal_signs, _sign_per_position,
                                                  _adjacent_signs, _determinants, _ks_diagonal)]
    failures = [f for f in found if f]
    if failures:
        raise CheckFailed(failures[0])
    n = N_PER_SHAPE * len(samples)
    shapes = ", ".join(str(s.shape) for s in samples)
    return f"{n} matrices of shapes {shapes}: diagonal signs, determinants, fourth moments, KS"


def _where(samples) -> str:
    return f"{N_PER_SHAPE * len(samples)} matrices of shapes {', '.join(str(s.shape) for s in samples)}"


def _binomial_p(k: int, n: int, ctx: Context, stream: int) -> float:
    """Randomised two-sided p-value of k ~ Bin(n, ½): P(|K − n/2| > |k − n/2|) + U·P(|K − n/2| =
    |k − n/2|), exactly uniform under the null (the plain one is not: the law is discrete)."""
    from scipy import stats

    dev = abs(k - n / 2)
    ks = np.arange(n + 1)
    pmf = stats.binom.pmf(ks, n, 0.5)
    more, tie = pmf[np.abs(ks - n / 2) > dev].sum(), pmf[np.abs(ks - n / 2) == dev].sum()
    return float(min(1.0, more + ctx.rng(99, stream).uniform() * tie))


def _fourth_moment(samples, alpha, ctx, fn) -> str:
    """Sub-test 5: Σ over matrices of (S − μ_m), for the first unit vector and for the mean
    over unit vectors, each within ``bernstein_sum_interval`` at α/2 (α/12 of the aspect)."""
    n = sum(len(s.first_column) for s in samples)
    for label, attr in (("first", "first_column"), ("mean", "column_mean")):
        total, var, above, below, expected = 0.0, 0.0, 0.0, 0.0, 0.0
        for s in samples:
            mu, v = fourth_moment_law(s.sphere)
            if attr == "column_mean":
                v = fourth_moment_mean_variance(s.sphere, min(s.shape))
            x = getattr(s, attr)
            total += float(np.sum(x - mu))
            var += len(x) * v
            above, below = max(above, 1 - mu), max(below, mu - 1 / s.sphere)
            expected += len(x) * mu
        lo, hi = _stats.bernstein_sum_interval(var, above, below, alpha / 2)
        if _engine.recording():
            from scipy import stats

            _engine.record(f"distribution/fourth-moment-{label}", float(2 * stats.norm.sf(abs(total) / math.sqrt(var))))
        if not -lo <= total <= hi:
            what = ("the first row (wide W) or column (tall W)" if label == "first"
                    else "the rows (wide W) or columns (tall W), averaged")
            observed, target = (expected + total) / n, expected / n
            heavier = total > 0
            return (f"the fourth moment Σᵢ qᵢ⁴ of {what}, scaled to unit length, averages {observed:.4f} over "
                    f"{_where(samples)}; for a uniformly random unit vector it is 3/(m+2), {target:.4f} on average "
                    f"here (a correct function lands within [{(expected - lo) / n:.4f}, {(expected + hi) / n:.4f}]): "
                    f"your vectors are {'spikier' if heavier else 'flatter'} than Haar — the matrix you factorised "
                    f"was not standard Gaussian ({'heavy-tailed, e.g. Laplace' if heavier else 'light-tailed or one-signed, e.g. uniform'}"
                    f"). QR (or the polar factor) gives a Haar matrix only from i.i.d. N(0, 1) entries: "
                    f"{_normal_example(fn)}.")
    return ""


_GAUSSIAN_EXAMPLES = {"numpy": "rng.standard_normal((n, k))", "torch": "torch.randn(n, k, generator=generator)",
                      "keras": "keras.random.normal((n, k), seed=self.seed)"}


def _normal_example(fn) -> str:
    return f"draw it with {_GAUSSIAN_EXAMPLES.get(getattr(fn, 'track', 'numpy'), _GAUSSIAN_EXAMPLES['numpy'])}"


def _diagonal_signs(samples, alpha, ctx, fn) -> str:
    """Sub-test 1: all diagonal entries together, Bin(Σ k, ½)."""
    k = sum(int(s.diag_positive.sum()) for s in samples)
    n = sum(s.diag_positive.size for s in samples)
    if _engine.recording():
        _engine.record("distribution/diagonal-positive", _binomial_p(k, n, ctx, 1))
    lo, hi = _stats.binomial_interval(n, alpha)
    if not lo <= k <= hi:
        return (f"the diagonal entries W[j, j] were positive in {k} of {n} ({k / n:.0%}) over {_where(samples)}; "
                f"for a Haar-distributed W each is positive with probability ½ ([{lo}, {hi}] with near "
                f"certainty){_per_position_words(samples)} — {_sign_fix_advice(samples)}")
    return ""


def _position_shares(samples) -> list:
    return [(s.shape, j, float(s.diag_positive[:, j].mean())) for s in samples for j in range(s.diag_positive.shape[1])]


def _per_position_words(samples) -> str:
    parts = []
    for s in samples:
        shares = ", ".join(f"{v:.0%}" for v in s.diag_positive.mean(axis=0))
        parts.append(f"{s.shape}: {shares}")
    return "; positive share of W[0, 0], W[1, 1], … per shape: " + "; ".join(parts)


def _sign_fix_advice(samples) -> str:
    """Name the sign mistake the per-position shares show (4.5 standard errors of ½ flag a
    position: words only, the verdict is the binomial test's)."""
    off = [(shape, j) for shape, j, share in _position_shares(samples)
           if abs(share - 0.5) > 4.5 * 0.5 / math.sqrt(N_PER_SHAPE)]
    total = sum(s.diag_positive.shape[1] for s in samples)
    if len(off) == total:
        return ("every diagonal position is biased: did you multiply Q's columns by the signs of R's "
                "diagonal (q * np.sign(np.diag(r)))?")
    positions = [(s.shape, j) for s in samples for j in range(s.diag_positive.shape[1])]
    if set(off) == {(shape, j) for shape, j in positions if j > 0}:
        return ("W[0, 0] is fine and every later diagonal position is biased: only the first column of Q got "
                "its sign fixed — multiply every column j by sign(R[j, j]) (q * np.sign(np.diag(r))).")
    shapes_off = {shape for shape, _ in off}
    if len(shapes_off) < len(samples) and set(off) == {(shape, j) for shape, j in positions if shape in shapes_off}:
        return (f"every position of shape{'s' if len(shapes_off) > 1 else ''} "
                f"{', '.join(map(str, sorted(shapes_off)))} is biased and the others are not: your sign fix "
                "is missing in some orientations (wide, tall or square) — apply q * np.sign(np.diag(r)) in every case.")
    if off and set(off) <= {(s.shape, s.diag_positive.shape[1] - 1) for s in samples}:
        return ("only the last diagonal position is biased: your sign fix misses Q's last column (a slice like "
                "[:, :-1]?) — use q * np.sign(np.diag(r)).")
    where = ", ".join(f"W[{j}, {j}] of {shape}" for shape, j in off)
    return (f"biased at {where} only: the signs of those columns of Q are not random — multiply every column j "
            "by the sign of R[j, j] (q * np.sign(np.diag(r))) and nothing else.")


def _sign_per_position(samples, alpha, ctx, fn) -> str:
    """Sub-test 2: each diagonal position of each shape alone, Bin(N, ½) at α/K each."""
    positions = _position_shares(samples)
    lo, hi = _stats.binomial_interval(N_PER_SHAPE, alpha / len(positions))
    if _engine.recording():  # Šidák: the positions are independent, so 1 − (1 − min p)^K is uniform
        ps = [_binomial_p(int(round(share * N_PER_SHAPE)), N_PER_SHAPE, ctx, 10 + i)
              for i, (_, _, share) in enumerate(positions)]
        _engine.record("distribution/diagonal-positive-per-position", 1 - (1 - min(ps)) ** len(ps))
    for shape, j, share in positions:
        k = int(round(share * N_PER_SHAPE))
        if not lo <= k <= hi:
            return (f"W[{j}, {j}] was positive in {k} of {N_PER_SHAPE} matrices of shape {shape}; for a "
                    f"Haar-distributed W each diagonal entry is positive with probability ½ ([{lo}, {hi}] with near "
                    f"certainty){_per_position_words(samples)} — {_sign_fix_advice(samples)}")
    return ""


def _adjacent_signs(samples, alpha, ctx, fn) -> str:
    """Sub-test 3: sign W_jj = sign W_j+1,j+1, Bin(Σ (k − 1), ½) — the products of neighbouring
    i.i.d. fair signs are themselves i.i.d. fair."""
    agree = sum(int(np.sum(s.diag_positive[:, 1:] == s.diag_positive[:, :-1])) for s in samples)
    n = sum(s.diag_positive[:, 1:].size for s in samples)
    if _engine.recording():
        _engine.record("distribution/adjacent-signs-agree", _binomial_p(agree, n, ctx, 2))
    lo, hi = _stats.binomial_interval(n, alpha)
    if not lo <= agree <= hi:
        return (f"neighbouring diagonal entries W[j, j] and W[j+1, j+1] had the same sign in {agree} of {n} "
                f"pairs ({agree / n:.0%}) over {_where(samples)}; for a Haar-distributed W half of them do "
                f"([{lo}, {hi}] with near certainty) — did you flip the whole Q by one sign (say sign(R[0, 0]))? "
                "Each column j needs its own sign(R[j, j]): q * np.sign(np.diag(r)).")
    return ""


def _determinants(samples, alpha, ctx, fn) -> str:
    """Sub-test 4: even square shapes, #{det W > 0} ~ Bin(N, ½)."""
    for s in samples:
        if s.det_positive is None:
            continue
        k, n = int(s.det_positive.sum()), len(s.det_positive)
        if _engine.recording():
            _engine.record("distribution/det-positive", _binomial_p(k, n, ctx, 3))
        lo, hi = _stats.binomial_interval(n, alpha)
        if not lo <= k <= hi:
            return (f"det W was positive in {k} of {n} matrices of shape {s.shape}; a Haar-distributed square "
                    f"matrix has det +1 or −1 (× gainⁿ) with probability ½ each ([{lo}, {hi}] with near "
                    f"certainty) — {'too many rotations: did you flip a column to make det W > 0? ' if k > hi else ''}"
                    "the signs are not random: each column j of Q multiplied by sign(R[j, j]), and no other flip, "
                    "gives det +1 and −1 equally often.")
    return ""


def _ks_diagonal(samples, alpha, ctx, fn) -> str:
    """Sub-test 6: u = F_m(W_jj/‖unit vector‖), one per matrix, against U(0, 1); DKW at α."""
    u = np.sort(np.concatenate([s.coordinate for s in samples]))
    n = len(u)
    d = _stats.ks_distance(u)
    if _engine.recording():
        _engine.record("distribution/ks-haar-diagonal-entry", _stats.ks_p_value(d, n))
    limit = _stats.ks_threshold(n, alpha)
    if d > limit:
        return (f"a diagonal entry W[j, j] divided by the norm of its row (wide W) or column (tall W), one per "
                f"matrix over {_where(samples)}, is {d:.3f} away (KS) from a coordinate of a uniform point on the "
                f"sphere (limit {limit:.3f}): your matrices are orthogonal but not Haar-distributed — QR of a "
                "standard Gaussian matrix, with each column of Q multiplied by sign(R[j, j]), gives the right law.")
    return ""


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
