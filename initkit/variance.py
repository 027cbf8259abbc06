"""Variance algebra (notebook 01)."""

from __future__ import annotations

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
