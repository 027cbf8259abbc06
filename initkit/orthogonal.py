"""Orthogonal initialization (notebook 06), PyTorch layout."""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_rng, as_shape, real


def haar_orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    r"""A ``rows × cols`` matrix with orthonormal rows (rows ≤ cols) or columns, Haar-distributed.

    QR-factorise a Gaussian matrix in its tall orientation, :math:`A = QR`, then flip each
    column of :math:`Q` by :math:`\operatorname{sign}(R_{ii})`. Without that fix the law of
    :math:`Q` depends on the QR routine's sign convention and is *not* Haar (Mezzadri 2007,
    math-ph/0609050).
    """
    tall = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(tall)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q.T if rows < cols else q


def orthogonal(shape, gain=1.0, rng=None) -> np.ndarray:
    r"""Fill a weight of ``shape`` with a gain-scaled, Haar-distributed orthogonal matrix.

    Viewed as a matrix of ``rows = shape[0]`` and ``cols = prod(shape[1:])`` (PyTorch's
    ``orthogonal_``), the result :math:`W = g\,Q` satisfies :math:`WW^\top = g^2 I` when
    rows ≤ cols and :math:`W^\top W = g^2 I` otherwise. An orthogonal map preserves norms,
    so a deep linear stack neither explodes nor vanishes — the reason RNNs use it.

    Example:
        >>> w = orthogonal((3, 5), gain=2.0, rng=np.random.default_rng(0))
        >>> np.allclose(w @ w.T, 4 * np.eye(3))
        True
    """
    dims = as_shape(shape, min_dims=2)
    gain = real("gain", gain)
    rng = as_rng(rng)
    rows, cols = dims[0], math.prod(dims[1:])
    if rows * cols == 0:
        return np.empty(dims)
    return (gain * haar_orthogonal(rows, cols, rng)).reshape(dims)
