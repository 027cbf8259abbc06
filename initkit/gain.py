"""The recommended gain of each nonlinearity, PyTorch's table (notebooks 04 and 05)."""

from __future__ import annotations

import math

LINEAR_NAMES = (
    "linear", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
)
NONLINEARITIES = LINEAR_NAMES + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")
DEFAULT_LEAKY_SLOPE = 0.01


def calculate_gain(nonlinearity: str, param=None) -> float:
    r"""Return the gain :math:`g` that keeps the signal's second moment through a layer.

    ===========================  =========================================
    nonlinearity                 gain
    ===========================  =========================================
    linear, conv*, conv_trans*   1
    sigmoid                      1
    tanh                         5/3
    relu                         :math:`\sqrt{2}` (ReLU halves :math:`E(x^2)`)
    leaky_relu                   :math:`\sqrt{2/(1+\text{slope}^2)}`, slope = ``param`` or 0.01
    selu                         3/4
    ===========================  =========================================

    ``param`` matters only for ``leaky_relu``; there it must be an int or float (not a bool).

    Example:
        >>> round(calculate_gain("leaky_relu", 0.2), 4)
        1.3868
    """
    if not isinstance(nonlinearity, str) or nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"nonlinearity must be one of {', '.join(NONLINEARITIES)}; "
            f"received {nonlinearity!r}"
        )
    if nonlinearity in LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if param is None:
        slope = DEFAULT_LEAKY_SLOPE
    elif isinstance(param, (int, float)) and not isinstance(param, bool):
        slope = float(param)
    else:
        raise ValueError(
            "param (the negative slope of leaky_relu) must be an int or float, "
            f"not a bool; received {param!r}"
        )
    return math.sqrt(2.0 / (1.0 + slope**2))
