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


# --- issue 20 for predict_std: types, names and float32 -------------------------------------

def _stds(depth, width, weight_std, activation):
    """The recursion as a list of Python floats, for variants that change only what wraps it."""
    second_moment, stds = 1.0, []
    for _ in range(depth):
        mean, second_moment = _moments(activation, width * weight_std**2 * second_moment)
        stds.append(math.sqrt(max(second_moment - mean**2, 0.0)))
    return stds


@mistake("predict_std", ("interface",), "returns the Python list of stds instead of a NumPy array")
def ps_list(depth, width, weight_std, activation):
    return _stds(depth, width, weight_std, activation)


@mistake("predict_std", ("interface", "values", "arguments"), "returns a float16 array (np.array(stds, dtype=np.float16))")
def ps_float16(depth, width, weight_std, activation):
    return np.array(_stds(depth, width, weight_std, activation), dtype=np.float16)


@mistake("predict_std", ("interface", "values", "arguments"), "the input's std 1 included first: depth + 1 values instead of depth")
def ps_with_input_layer(depth, width, weight_std, activation):
    return np.array([1.0] + _stds(depth, width, weight_std, activation))


@mistake("predict_std", ("interface",), "returns a column of shape (depth, 1) instead of shape (depth,)")
def ps_column(depth, width, weight_std, activation):
    return np.array(_stds(depth, width, weight_std, activation)).reshape(-1, 1)


@mistake("predict_std", ("values",), "results stored in np.zeros(depth, dtype=np.float32): N(0, 1) weights overflow it")
def ps_float32_storage(depth, width, weight_std, activation):
    out = np.zeros(depth, dtype=np.float32)
    out[:] = _stds(depth, width, weight_std, activation)
    return out


@mistake("predict_std", ("errors",), "names matched by substring: \"relu\" in activation gives 'prelu' and 'relu6' ReLU's law")
def ps_substring_match(depth, width, weight_std, activation):
    if not isinstance(activation, str):
        raise ValueError(f"unknown activation {activation!r}")
    for kind in ("linear", "relu", "tanh"):
        if kind in activation:
            return np.array(_stds(depth, width, weight_std, kind))
    raise ValueError(f"unknown activation {activation!r}")


@mistake("predict_std", ("errors",), "activation lower-cased and stripped first, so 'ReLU' and ' tanh' are accepted")
def ps_case_insensitive(depth, width, weight_std, activation):
    if isinstance(activation, str):
        activation = activation.strip().lower()
    if activation not in ("linear", "relu", "tanh"):
        raise ValueError(f"unknown activation {activation!r}")
    return np.array(_stds(depth, width, weight_std, activation))


@mistake("predict_std", ("errors",), "names matched by prefix: activation.startswith('tanh') / ('relu') / ('lin')")
def ps_prefix_match(depth, width, weight_std, activation):
    for kind, prefix in (("linear", "lin"), ("relu", "relu"), ("tanh", "tanh")):
        if isinstance(activation, str) and activation.startswith(prefix):
            return np.array(_stds(depth, width, weight_std, kind))
    raise ValueError(f"unknown activation {activation!r}")


@correct("predict_std", "tanh's grid in float32 (np.linspace(..., dtype=np.float32)): the tanh recursion runs in float32")
def ps_float32_grid(depth, width, weight_std, activation):
    if activation not in ("linear", "relu", "tanh"):
        raise ValueError(f"unknown activation {activation!r}")
    t = np.linspace(-10, 10, 4001, dtype=np.float32)
    p = np.exp(-t * t / np.float32(2))
    p = p / p.sum()
    second_moment, stds = 1.0, []
    for _ in range(depth):
        var_z = width * weight_std**2 * second_moment
        if activation == "linear":
            mean, second_moment = 0.0, var_z
        elif activation == "relu":
            mean, second_moment = math.sqrt(var_z / (2 * math.pi)), var_z / 2
        else:
            y = np.tanh(np.sqrt(np.float32(var_z)) * t)
            mean, second_moment = np.sum(p * y), np.sum(p * y * y)
        stds.append(np.sqrt(second_moment - mean * mean))
    return np.array(stds)


@correct("predict_std", "closed forms for linear and ReLU with np.vectorize over the layers, tanh by recursion")
def ps_closed_forms(depth, width, weight_std, activation):
    factor = width * weight_std**2                      # D(z_l) / E(x_(l-1)²)
    if activation == "linear":
        return np.vectorize(lambda layer: factor ** (layer / 2))(np.arange(1, depth + 1)).astype(float)
    if activation == "relu":                            # E(x_l²) = (factor/2)^l, D(x_l) = (1 − 1/π)·E(x_l²)
        return np.vectorize(lambda layer: math.sqrt((1 - 1 / math.pi) * (factor / 2) ** layer))(
            np.arange(1, depth + 1)).astype(float)
    if activation != "tanh":
        raise ValueError(f"activation must be 'linear', 'relu' or 'tanh'; received {activation!r}")
    t = np.linspace(-10.0, 10.0, 4001)
    p = np.exp(-t**2 / 2) / np.exp(-t**2 / 2).sum()

    def layer_stds(layers_left, second_moment):
        if layers_left == 0:
            return []
        second = float(p @ np.tanh(math.sqrt(factor * second_moment) * t) ** 2)
        return [math.sqrt(second)] + layer_stds(layers_left - 1, second)

    return np.array(layer_stds(depth, 1.0))


@correct("predict_std", "everything in float32 (a float32 weight_std, float32 grid and results), returned as float32 where it fits")
def ps_all_float32(depth, width, weight_std, activation):
    if activation not in ("linear", "relu", "tanh"):
        raise ValueError(f"unknown activation {activation!r}")
    t = np.linspace(-10, 10, 4001, dtype=np.float32)
    p = np.exp(-t * t / np.float32(2))
    p /= p.sum()
    factor = np.float32(width) * np.float32(weight_std) ** 2
    second_moment = np.float32(1)
    out = np.empty(depth, dtype=np.float64)
    for layer in range(depth):
        var_z = np.float64(factor) * np.float64(second_moment)
        if var_z * 2 > np.finfo(np.float32).max:       # N(0, 1) weights: float32 cannot hold it
            var_z_32 = None
        else:
            var_z_32 = np.float32(var_z)
        if var_z_32 is None:
            return _float64_tail(out, layer, depth, width, weight_std, activation)
        if activation == "linear":
            mean, second_moment = np.float32(0), var_z_32
        elif activation == "relu":
            mean, second_moment = np.sqrt(var_z_32 / np.float32(2 * math.pi)), var_z_32 / np.float32(2)
        else:
            y = np.tanh(np.sqrt(var_z_32) * t)
            mean, second_moment = p @ y, p @ (y * y)
        out[layer] = np.sqrt(second_moment - mean * mean)
    return out.astype(np.float32) if np.all(out < 1e30) else out


def _float64_tail(out, start, depth, width, weight_std, activation):
    """Layers start… in float64, once float32 cannot hold the variance."""
    stds = _stds(depth, width, float(weight_std), activation)
    out[start:] = stds[start:]
    return out
