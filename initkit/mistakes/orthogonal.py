"""orthogonal."""

import math

import numpy as np

from . import correct, mistake


def _rng(rng):
    return rng if rng is not None else np.random.default_rng()


def _check(shape):
    if len(shape) < 2:
        raise ValueError(f"need at least 2 dimensions, got {shape}")
    return shape[0], math.prod(shape[1:])


@correct("orthogonal", "QR of the wide matrix's transpose, signs fixed")
def orth_qr_transpose(shape, gain=1.0, rng=None):
    rows, cols = _check(shape)
    a = _rng(rng).standard_normal((rows, cols))
    if rows < cols:
        q, r = np.linalg.qr(a.T)
        q = (q * np.sign(np.diag(r))).T
    else:
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
    return gain * q.reshape(shape)


@correct("orthogonal", "polar factor U·Vᵀ from the SVD of a Gaussian matrix")
def orth_svd_polar(shape, gain=1.0, rng=None):
    rows, cols = _check(shape)
    u, _, vt = np.linalg.svd(_rng(rng).standard_normal((rows, cols)), full_matrices=False)
    return gain * (u @ vt).reshape(shape)


@mistake("orthogonal", ("distribution",), "no sign fix: Q straight from numpy's QR")
def orth_no_sign_fix(shape, gain=1.0, rng=None):
    rows, cols = _check(shape)
    q, _ = np.linalg.qr(_rng(rng).standard_normal((max(rows, cols), min(rows, cols))))
    return gain * (q.T if rows < cols else q).reshape(shape)


@mistake("orthogonal", ("arguments",), "gain ignored")
def orth_gain_ignored(shape, gain=1.0, rng=None):
    return orth_qr_transpose(shape, 1.0, rng)


@mistake("orthogonal", ("orthogonality", "arguments"), "no QR: a Gaussian matrix scaled by 1/√cols")
def orth_no_qr(shape, gain=1.0, rng=None):
    rows, cols = _check(shape)
    return gain * _rng(rng).standard_normal(shape) / math.sqrt(max(rows, cols))


@mistake("orthogonal", ("orthogonality", "arguments"),
         "Q reshaped without transposing back for wide shapes")
def orth_no_transpose(shape, gain=1.0, rng=None):
    rows, cols = _check(shape)
    q, r = np.linalg.qr(_rng(rng).standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return gain * q.reshape(shape)


# --- issue 17: wrong answers the old one-entry Haar test let through, and correct ones -------
#
# Power of the distribution aspect (initkit/checks/_orthogonal.py: 500 matrices each of a wide
# (2–4 × 6–9), a tall (6–9 × 2–4) and an even square (4×4 or 6×6) shape), measured at seeds
# 0–99 (tests/test_checks.py::test_orthogonal_distribution_verdicts_hold_at_seeds_0_to_99; per
# QR backend tests/test_parity_orthogonal.py with INITKIT_POWER_SEEDS=100):
#
# - sign mistakes — no fix, first column only, all but the last column, a fix in some
#   orientations only, one global sign from R[0, 0], det forced to +1: caught at 100/100 seeds
#   with numpy, scipy, torch and TensorFlow QR. Their counts sit far outside the acceptance
#   regions (e.g. the missed last column: 34–93 of 500 positive against [183, 317] where the
#   per-position test fired first; neighbours agreeing ~78 % against 46–54 %; det > 0 for
#   500 of 500 against [187, 313]).
# - QR of non-Gaussian matrices, by the fourth moment (statistic / Bernstein threshold, minimum
#   over seeds 0–99): U[0, 1) 3.1, U(−1, 1) 3.1, Laplace 2.8 — covered. Student-t(5) 1.39
#   (caught at 100/100, but with less margin than the design's 1 − 1e-5 asks: not claimed).
#   Not covered: logistic (caught at 94 %), t(7) (97 %), t(10) (43 %), t(20) (0 %) — nearly
#   Gaussian. On smaller spheres the test is weaker: with shapes (2, 4), (4, 2), (4, 4)
#   Student-t(5) is caught at only 76 % of seeds, which is why the check's spheres have
#   dimension 6–9.

def _tall_gaussian_qr(shape, rng, draw=None):
    """(rows, cols, Q, R) of the QR of the tall orientation of a random matrix."""
    rows, cols = _check(shape)
    size = (max(rows, cols), min(rows, cols))
    a = draw(_rng(rng), size) if draw is not None else _rng(rng).standard_normal(size)
    q, r = np.linalg.qr(a)
    return rows, cols, q, r


def _back(q, rows, cols, shape, gain):
    return gain * (q.T if rows < cols else q).reshape(shape)


@mistake("orthogonal", ("distribution",), "sign fix on the first column of Q only",
         hint="only the first column of Q got its sign fixed: multiply every column j by sign(R[j, j])")
def orth_sign_fix_first_column(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    q[:, 0] *= np.sign(r[0, 0])
    return _back(q, rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "one global sign from R[0, 0] for the whole Q",
         hint="the whole Q was flipped by sign(R[0, 0]): each column j needs its own sign(R[j, j])")
def orth_global_sign(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    return _back(q * np.sign(r[0, 0]), rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "sign fix on every column but the last (an off-by-one slice)",
         hint="the last column of Q kept numpy's sign: q[:, :-1] misses it — use q * np.sign(np.diag(r))")
def orth_sign_fix_all_but_last(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    q[:, :-1] *= np.sign(np.diag(r))[:-1]
    return _back(q, rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "sign fix only for wide shapes (rows < cols), none for tall or square",
         hint="the sign fix is missing when rows ≥ cols: apply it in every orientation")
def orth_sign_fix_wide_only(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    if rows < cols:
        q = q * np.sign(np.diag(r))
    return _back(q, rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "QR of a U[0, 1) matrix (rng.random) instead of a Gaussian one",
         hint="the matrix you factorised was uniform on [0, 1), not standard Gaussian: draw it with rng.standard_normal")
def orth_qr_of_uniform(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng, lambda g, size: g.random(size))
    return _back(q * np.sign(np.diag(r)), rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "QR of a U(−1, 1) matrix instead of a Gaussian one",
         hint="the matrix you factorised was uniform, not standard Gaussian: draw it with rng.standard_normal")
def orth_qr_of_symmetric_uniform(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng, lambda g, size: g.uniform(-1.0, 1.0, size))
    return _back(q * np.sign(np.diag(r)), rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "QR of a Laplace matrix instead of a Gaussian one",
         hint="the matrix you factorised was Laplace, not standard Gaussian: draw it with rng.standard_normal")
def orth_qr_of_laplace(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng, lambda g, size: g.laplace(0.0, 1.0, size))
    return _back(q * np.sign(np.diag(r)), rows, cols, shape, gain)


@correct("orthogonal", "A·(AᵀA)^(−1/2) of a tall Gaussian A (the polar factor by an eigendecomposition), "
                       "plus one Newton–Schulz step")
def orth_inverse_square_root(shape, gain=1.0, rng=None):
    """Q = A(AᵀA)^(−1/2), the polar factor of a Gaussian A: Haar, as written by a student.
    AᵀA squares A's condition number, so Q is orthonormal only to ~κ(A)²·2⁻⁵² — within the
    orthogonality aspect's float32-derived tolerance, not within 1e-10 at every seed."""
    rows, cols = _check(shape)
    a = _rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    values, vectors = np.linalg.eigh(a.T @ a)
    q = a @ (vectors / np.sqrt(values)) @ vectors.T
    return _back(q, rows, cols, shape, gain)


@correct("orthogonal", "Haar Q with random column signs on top (still Haar: the law is invariant)")
def orth_random_column_signs(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    q = q * np.sign(np.diag(r)) * _rng(rng).choice([-1.0, 1.0], size=q.shape[1])
    return _back(q, rows, cols, shape, gain)


@correct("orthogonal", "scipy.linalg.qr (economic) with the sign(diag R) fix")
def orth_scipy_qr(shape, gain=1.0, rng=None):
    import scipy.linalg

    rows, cols = _check(shape)
    q, r = scipy.linalg.qr(_rng(rng).standard_normal((max(rows, cols), min(rows, cols))), mode="economic")
    return _back(q * np.sign(np.diag(r)), rows, cols, shape, gain)


@correct("orthogonal", "QR with the sign fix, returned as float32")
def orth_float32(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    return _back(q * np.sign(np.diag(r)), rows, cols, shape, gain).astype(np.float32)


@correct("orthogonal", "Gram–Schmidt by hand on the columns of a tall Gaussian (no library QR, so no sign to fix)")
def orth_gram_schmidt(shape, gain=1.0, rng=None):
    """Gram–Schmidt on the rows of a wide Gaussian (columns of a tall one), by hand."""
    rows, cols = _check(shape)
    a = _rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q = np.empty_like(a)
    for j in range(a.shape[1]):
        v = a[:, j] - q[:, :j] @ (q[:, :j].T @ a[:, j])
        v = v - q[:, :j] @ (q[:, :j].T @ v)  # twice is enough (Kahan–Parlett)
        q[:, j] = v / np.linalg.norm(v)
    return _back(q, rows, cols, shape, gain)


@mistake("orthogonal", ("distribution",), "square shapes forced to det +1 (a rotation, SO(n), not O(n))",
         hint="you made every square W a rotation (det +1): Haar on O(n) has det −1 half the time — keep the sign-fixed Q as it is")
def orth_rotation_only(shape, gain=1.0, rng=None):
    rows, cols, q, r = _tall_gaussian_qr(shape, rng)
    q = q * np.sign(np.diag(r))
    if rows == cols and np.linalg.det(q) < 0:
        q[:, -1] = -q[:, -1]
    return _back(q, rows, cols, shape, gain)
