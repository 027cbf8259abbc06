"""Keras' ``VarianceScaling`` family in NumPy (notebook 06), Keras layout ``(*kernel, in, out)``."""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_rng, as_shape, one_of, real
from .fans import compute_fans
from .truncated import truncated_normal

VS_MODES = ("fan_in", "fan_out", "fan_avg")
VS_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

#: std of N(0, 1) truncated to [-2, 2]: sqrt(1 - 4 φ(2) / (2Φ(2) - 1)). Dividing σ by it
#: makes the truncated draw's variance exactly ``s`` again.
TRUNCATED_STD_2SIGMA = 0.87962566103423978


def variance_scaling_variance(shape, scale=1.0, mode="fan_in") -> float:
    r""":math:`s = \text{scale}/\max(1, n)`, :math:`n` = fan_in, fan_out or their mean."""
    scale = real("scale", scale, positive=True)
    one_of("mode", mode, VS_MODES)
    fan_in, fan_out = compute_fans(shape, layout="keras")
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    return scale / max(1.0, n)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None) -> np.ndarray:
    r"""Draw weights of variance :math:`s = \text{scale}/\max(1, n)`, Keras semantics.

    :math:`n` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out)/2`` (``mode``), computed in
    Keras' layout ``(*kernel, in, out)``. ``distribution``:

    - ``"truncated_normal"``: :math:`N(0, \sigma^2)` cut at :math:`\pm 2\sigma` by resampling,
      :math:`\sigma = \sqrt{s}/0.87962566103423978` so that the variance is exactly :math:`s`;
    - ``"untruncated_normal"``: :math:`N(0, s)`;
    - ``"uniform"``: :math:`U(-\sqrt{3s}, \sqrt{3s})`;
    - ``"normal"``: accepted, as in Keras 3 and ``tf.compat.v1``, as an old alias of
      ``"truncated_normal"`` (the *corrected* one).

    Glorot is ``scale=1, mode="fan_avg"``, He is ``scale=2, mode="fan_in"``, LeCun
    ``scale=1, mode="fan_in"``.

    Example:
        >>> w = variance_scaling((3, 3, 16, 32), scale=2.0, rng=np.random.default_rng(0))
        >>> round(float(w.var() * 3 * 3 * 16), 1)
        2.0
    """
    dims = as_shape(shape)
    s = variance_scaling_variance(dims, scale, mode)
    if distribution == "normal":
        distribution = "truncated_normal"
    one_of("distribution", distribution, VS_DISTRIBUTIONS)
    rng = as_rng(rng)
    if distribution == "uniform":
        bound = math.sqrt(3.0 * s)
        return rng.uniform(-bound, bound, size=dims)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(s), size=dims)
    sigma = math.sqrt(s) / TRUNCATED_STD_2SIGMA
    return truncated_normal(dims, 0.0, sigma, -2.0 * sigma, 2.0 * sigma, rng=rng)
