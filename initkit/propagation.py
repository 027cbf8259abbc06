"""Signal propagation through a deep network, predicted by variance algebra (notebook 02)."""

from __future__ import annotations

import math

import numpy as np

from ._validate import one_of, real

ACTIVATIONS = ("linear", "relu", "tanh")

# tanh's expectations over z ~ N(0, v) are integrals: the trapezoid rule on a grid of
# standard-normal values, 4,001 points over ±10, is accurate to ~1e-15 for these smooth,
# fast-decaying integrands — far below the 1e-4 the check allows.
_T = np.linspace(-10.0, 10.0, 4001)
_P = np.exp(-_T**2 / 2)
_P /= _P.sum()


def _moments(activation: str, var_z: float) -> tuple[float, float, float]:
    """E f(z), E f(z)² and E f′(z)² for z ~ N(0, var_z)."""
    if activation == "linear":
        return 0.0, var_z, 1.0
    if activation == "relu":                      # half of z² survives; E max(z, 0) = σ/√(2π)
        return math.sqrt(var_z / (2 * math.pi)), var_z / 2, 0.5
    y = np.tanh(math.sqrt(var_z) * _T)
    return float(_P @ y), float(_P @ y**2), float(_P @ (1 - y**2) ** 2)


def _check(depth, width, weight_std, activation):
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an int >= 1; received {depth!r}")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an int >= 1; received {width!r}")
    weight_std = real("weight_std", weight_std, nonnegative=True)
    return int(depth), int(width), weight_std, one_of("activation", activation, ACTIVATIONS)


def _layers(depth, width, weight_std, activation):
    """Per layer l: (E x_l, E x_l², E f′(z_l)²), from D(z_l) = n·D(w)·E(x_{l−1}²)."""
    second_moment = 1.0                                    # E(x_0²) = 1: N(0, 1) inputs
    for _ in range(depth):
        mean, second_moment, slope = _moments(activation, width * weight_std**2 * second_moment)
        yield mean, second_moment, slope


def predict_std(depth: int, width: int, weight_std: float, activation: str) -> np.ndarray:
    r"""Predicted std of the activations :math:`x_l = f(z_l)`, :math:`l = 1, \dots,` ``depth``,
    of a bias-free MLP of square ``width`` × ``width`` layers with zero-mean weights of std
    ``weight_std``, fed inputs with i.i.d. N(0, 1) entries.

    .. math::
        D(z_l) = n\,D(w)\,E(x_{l-1}^2),\quad E(x_0^2) = 1,\qquad
        \operatorname{std}(x_l) = \sqrt{E f(z_l)^2 - (E f(z_l))^2},\ z_l \sim N(0, D(z_l))

    Linear: std(x_l) = std(z_l). ReLU: E(x²) = D(z)/2 and std(x) = std(z)·√((1 − 1/π)/2).
    tanh: the expectations are integrals, computed numerically. Returns a float64 array of
    shape ``(depth,)``.

    Example:
        >>> predict_std(3, 256, 1 / 16, "linear")          # N(0, 1/n): the variance is kept
        array([1., 1., 1.])
        >>> predict_std(2, 256, math.sqrt(2 / 256), "relu").round(4)   # Kaiming: std(z) stays √2
        array([0.8256, 0.8256])
    """
    depth, width, weight_std, activation = _check(depth, width, weight_std, activation)
    return np.array([math.sqrt(max(m2 - m1**2, 0.0)) for m1, m2, _ in _layers(depth, width, weight_std, activation)])


def predict_gradient_std(depth: int, width: int, weight_std: float, activation: str) -> np.ndarray:
    r"""Predicted std of :math:`\delta_{l-1} = \partial L/\partial x_{l-1}`, :math:`l = 1, \dots,`
    ``depth``, for the network of :func:`predict_std` and a loss whose gradient at the output
    has std 1.

    .. math::
        D(\delta_{l-1}) = n\,D(w)\,E\big(f'(z_l)^2\big)\,D(\delta_l),\qquad D(\delta_{\text{depth}}) = 1

    Example:
        >>> predict_gradient_std(3, 256, math.sqrt(2 / 256), "relu")   # Kaiming: flat backward too
        array([1., 1., 1.])
    """
    depth, width, weight_std, activation = _check(depth, width, weight_std, activation)
    factors = [width * weight_std**2 * slope for _, _, slope in _layers(depth, width, weight_std, activation)]
    return np.sqrt(np.cumprod(factors[::-1])[::-1])
