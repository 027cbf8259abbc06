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
