"""Variance algebra (notebook 01)."""

from __future__ import annotations

import math
import numbers

from ._validate import real


def var_of_product(mean_x: float, var_x: float, mean_y: float, var_y: float) -> float:
    r"""Variance of the product :math:`XY` of two **independent** random variables.

    .. math::
        D(XY) = D(X)\,D(Y) + D(X)\,E(Y)^2 + D(Y)\,E(X)^2

    It follows from :math:`D(Z) = E(Z^2) - E(Z)^2` and, for independent :math:`X, Y`,
    :math:`E(X^2 Y^2) = E(X^2)E(Y^2)`. Uncorrelated is not enough: the identity needs
    :math:`X^2` and :math:`Y^2` to be uncorrelated too. With zero means it reduces to
    :math:`D(X)D(Y)`.

    Example:
        >>> var_of_product(1.0, 2.0, 3.0, 4.0)   # 2*4 + 2*9 + 4*1
        30.0
    """
    mean_x, mean_y = real("mean_x", mean_x), real("mean_y", mean_y)
    var_x = real("var_x", var_x, nonnegative=True)
    var_y = real("var_y", var_y, nonnegative=True)
    return var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2


def relu_moments(mean: float, std: float) -> tuple[float, float]:
    r"""First and second moment of :math:`\operatorname{relu}(h) = \max(h, 0)` for
    :math:`h \sim N(\mu, \sigma^2)`, ``std`` :math:`\sigma > 0`.

    .. math::
        E\,\operatorname{relu}(h) = \mu\,\Phi(\alpha) + \sigma\,\varphi(\alpha),\qquad
        E\,\operatorname{relu}(h)^2 = (\mu^2 + \sigma^2)\,\Phi(\alpha) + \mu\,\sigma\,\varphi(\alpha),
        \qquad \alpha = \mu/\sigma

    with :math:`\varphi, \Phi` the standard normal density and CDF. For :math:`\mu = 0`:
    :math:`(\sigma/\sqrt{2\pi},\ \sigma^2/2)` — ReLU keeps half of the second moment.

    Example:
        >>> m1, m2 = relu_moments(0.0, 1.0)
        >>> round(m1, 4), m2          # 1/√(2π), 1/2
        (0.3989, 0.5)
    """
    mean = real("mean", mean)
    std = real("std", std, positive=True)
    alpha = mean / std
    cdf = 0.5 * math.erfc(-alpha / math.sqrt(2.0))
    pdf = math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi)
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


def preactivation_variance(n: int, var_w: float, mean_x: float, var_x: float) -> float:
    r"""Variance of a neuron's pre-activation :math:`z = \sum_{i=1}^n w_i x_i` with i.i.d.
    zero-mean weights drawn independently of i.i.d. inputs.

    .. math::
        D(z) = n\,D(w)\,E(x^2) = n\,D(w)\,\big(D(x) + E(x)^2\big)

    It is :math:`n\,D(w)\,D(x)` only when :math:`E(x) = 0`, which ReLU outputs violate.

    Example:
        >>> preactivation_variance(256, 2 / 256, 0.0, 0.5)   # Kaiming on zero-mean inputs
        1.0
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an int >= 1; received {n!r}")
    var_w = real("var_w", var_w, nonnegative=True)
    mean_x, var_x = real("mean_x", mean_x), real("var_x", var_x, nonnegative=True)
    return n * var_w * (var_x + mean_x**2)
