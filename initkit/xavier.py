"""Xavier / Glorot initialization (notebook 03), PyTorch layout ``(out, in, *kernel)``."""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_rng, as_shape, real
from .fans import compute_fans


def xavier_std(shape, gain: float = 1.0) -> float:
    r""":math:`\sigma = g\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`: keeps the variance of the
    signal forward (:math:`\text{fan\_in}\,\sigma^2 = 1`) and of the gradient backward
    (:math:`\text{fan\_out}\,\sigma^2 = 1`) as close to 1 as one number can."""
    gain = real("gain", gain)
    fan_in, fan_out = compute_fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0


def xavier_uniform(shape, gain: float = 1.0, rng=None) -> np.ndarray:
    r"""Fill a weight of ``shape`` from :math:`U(-a, a)`, :math:`a = g\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    :math:`U(-a, a)` has variance :math:`a^2/3 = 2g^2/(\text{fan\_in}+\text{fan\_out})`.
    Also known as Glorot uniform (``torch.nn.init.xavier_uniform_``,
    ``keras.initializers.GlorotUniform`` in Keras' layout).

    Example:
        >>> w = xavier_uniform((256, 128), rng=np.random.default_rng(0))
        >>> bool(abs(w).max() <= math.sqrt(6 / 384))
        True
    """
    dims = as_shape(shape, min_dims=2)
    bound = math.sqrt(3.0) * xavier_std(dims, gain)
    rng = as_rng(rng)
    return rng.uniform(-bound, bound, size=dims)


def xavier_normal(shape, gain: float = 1.0, rng=None) -> np.ndarray:
    r"""Fill a weight of ``shape`` from :math:`N(0, \sigma^2)`, :math:`\sigma = g\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Not truncated (PyTorch's ``xavier_normal_``; Keras' ``GlorotNormal`` truncates).

    Example:
        >>> w = xavier_normal((256, 128), rng=np.random.default_rng(0))
        >>> w.shape
        (256, 128)
    """
    dims = as_shape(shape, min_dims=2)
    std = xavier_std(dims, gain)
    rng = as_rng(rng)
    return rng.normal(0.0, std, size=dims)
