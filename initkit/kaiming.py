"""Kaiming / He initialization (notebook 04), PyTorch layout ``(out, in, *kernel)``."""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_rng, as_shape, one_of
from .fans import compute_fans
from .gain import calculate_gain

KAIMING_MODES = ("fan_in", "fan_out")


def kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu") -> float:
    r""":math:`\sigma = g/\sqrt{\text{fan}}` with :math:`g` = ``calculate_gain(nonlinearity, a)``.

    ``mode="fan_in"`` keeps the forward signal's second moment, ``"fan_out"`` the backward
    gradient's. With the defaults (``leaky_relu``, ``a=0``) the gain is :math:`\sqrt 2`, the
    ReLU gain: a ReLU halves :math:`E(x^2)`, so the weights must double it.
    """
    one_of("mode", mode, KAIMING_MODES)
    gain = calculate_gain(nonlinearity, a)
    fan_in, fan_out = compute_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return gain / math.sqrt(fan) if fan > 0 else 0.0


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None) -> np.ndarray:
    r"""Fill a weight of ``shape`` from :math:`U(-b, b)`, :math:`b = \sqrt{3}\,g/\sqrt{\text{fan}}`.

    ``a`` is the negative slope of a leaky ReLU (used only when
    ``nonlinearity="leaky_relu"``); ``mode`` picks ``fan_in`` or ``fan_out``.
    Also known as He uniform (``torch.nn.init.kaiming_uniform_``).

    Example:
        >>> w = kaiming_uniform((128, 64), nonlinearity="relu", rng=np.random.default_rng(0))
        >>> bool(abs(w).max() <= math.sqrt(6 / 64))
        True
    """
    dims = as_shape(shape, min_dims=2)
    bound = math.sqrt(3.0) * kaiming_std(dims, a, mode, nonlinearity)
    rng = as_rng(rng)
    return rng.uniform(-bound, bound, size=dims)


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None) -> np.ndarray:
    r"""Fill a weight of ``shape`` from :math:`N(0, (g/\sqrt{\text{fan}})^2)`, not truncated.

    Also known as He normal (``torch.nn.init.kaiming_normal_``; Keras' ``HeNormal``
    truncates).

    Example:
        >>> w = kaiming_normal((128, 64), mode="fan_out", rng=np.random.default_rng(0))
        >>> w.shape
        (128, 64)
    """
    dims = as_shape(shape, min_dims=2)
    std = kaiming_std(dims, a, mode, nonlinearity)
    rng = as_rng(rng)
    return rng.normal(0.0, std, size=dims)
