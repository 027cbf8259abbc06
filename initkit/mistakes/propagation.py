"""predict_std (notebook 02): the variance recursion of a deep MLP, as students get it wrong."""

import math

import numpy as np

from . import correct, mistake


def _tanh_moments(var_z):
    """E tanh(z) and E tanh(z)² for z ~ N(0, var_z), on a grid of 4,001 points over ±10 std."""
    t = np.linspace(-10.0, 10.0, 4001)
    p = np.exp(-t**2 / 2)
    p /= p.sum()
    y = np.tanh(math.sqrt(var_z) * t)
    return float(p @ y), float(p @ y**2)


def _moments(activation, var_z):
    """(E x, E x²) of x = f(z), z ~ N(0, var_z)."""
    if activation == "linear":
        return 0.0, var_z
    if activation == "relu":
        return math.sqrt(var_z / (2 * math.pi)), var_z / 2
    if activation == "tanh":
        return _tanh_moments(var_z)
    raise ValueError(f"activation must be 'linear', 'relu' or 'tanh'; received {activation!r}")


@mistake("predict_std", ("values",), "ReLU's output keeps all of D(z) as its second moment: the ½ forgotten")
def ps_relu_no_half(depth, width, weight_std, activation):
    second_moment, stds = 1.0, []
    for _ in range(depth):
        var_z = width * weight_std**2 * second_moment
        mean, _ = _moments(activation, var_z)
        second = var_z if activation == "relu" else _moments(activation, var_z)[1]
        stds.append(math.sqrt(max(_moments(activation, var_z)[1] - mean**2, 0.0)))
        second_moment = second
    return np.array(stds)


@mistake("predict_std", ("values", "arguments"), "the std of the pre-activations z_l, not of the activations x_l = f(z_l)")
def ps_std_of_z(depth, width, weight_std, activation):
    second_moment, stds = 1.0, []
    for _ in range(depth):
        var_z = width * weight_std**2 * second_moment
        stds.append(math.sqrt(var_z))
        second_moment = _moments(activation, var_z)[1]
    return np.array(stds)


@mistake("predict_std", ("values", "arguments"), "variances returned instead of standard deviations")
def ps_variances(depth, width, weight_std, activation):
    second_moment, out = 1.0, []
    for _ in range(depth):
        mean, second_moment = _moments(activation, width * weight_std**2 * second_moment)
        out.append(second_moment - mean**2)
    return np.array(out)


@mistake("predict_std", ("values", "arguments"), "n·std(w) in place of n·D(w): the weights' std not squared")
def ps_std_not_squared(depth, width, weight_std, activation):
    second_moment, stds = 1.0, []
    for _ in range(depth):
        mean, second_moment = _moments(activation, width * weight_std * second_moment)
        stds.append(math.sqrt(max(second_moment - mean**2, 0.0)))
    return np.array(stds)


@mistake("predict_std", ("values",), "D(x) in place of E(x²) for the next layer: ReLU's mean dropped")
def ps_variance_not_second_moment(depth, width, weight_std, activation):
    variance, stds = 1.0, []
    for _ in range(depth):
        mean, second = _moments(activation, width * weight_std**2 * variance)
        variance = second - mean**2
        stds.append(math.sqrt(max(variance, 0.0)))
    return np.array(stds)


@mistake("predict_std", ("arguments",), "tanh treated as the identity (tanh(z) ≈ z holds only for small z)")
def ps_tanh_as_identity(depth, width, weight_std, activation):
    kind = "linear" if activation == "tanh" else activation
    second_moment, stds = 1.0, []
    for _ in range(depth):
        mean, second_moment = _moments(kind, width * weight_std**2 * second_moment)
        stds.append(math.sqrt(max(second_moment - mean**2, 0.0)))
    return np.array(stds)


@mistake("predict_std", ("errors",), "an unknown activation treated as linear instead of a ValueError")
def ps_unknown_as_linear(depth, width, weight_std, activation):
    kind = activation if activation in ("relu", "tanh") else "linear"
    second_moment, stds = 1.0, []
    for _ in range(depth):
        mean, second_moment = _moments(kind, width * weight_std**2 * second_moment)
        stds.append(math.sqrt(max(second_moment - mean**2, 0.0)))
    return np.array(stds)


@correct("predict_std", "a loop over variances with closed forms, tanh by Gauss–Hermite quadrature (100 nodes)")
def ps_gauss_hermite(depth, width, weight_std, activation):
    if activation not in ("linear", "relu", "tanh"):
        raise ValueError(f"unknown activation {activation!r}")
    nodes, weights = np.polynomial.hermite_e.hermegauss(100)
    weights = weights / weights.sum()
    var_z, stds = width * weight_std**2, []
    for _ in range(depth):
        if activation == "linear":
            var_x, second = var_z, var_z
        elif activation == "relu":
            var_x, second = var_z * (1 - 1 / math.pi) / 2, var_z / 2
        else:
            y = np.tanh(math.sqrt(var_z) * nodes)
            second = float(weights @ y**2)
            var_x = second - float(weights @ y) ** 2
        stds.append(math.sqrt(var_x))
        var_z = width * weight_std**2 * second
    return np.array(stds)
