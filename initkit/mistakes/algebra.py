"""var_of_product, relu_moments, preactivation_variance, compute_fans, calculate_gain."""

import math

import numpy as np  # noqa: F401  (pasted sources may use it)

from . import correct, mistake


@mistake("var_of_product", ("values",), "D(XY) = D(X)·D(Y), forgetting the mean terms")
def product_of_variances(mean_x, var_x, mean_y, var_y):
    return var_x * var_y


@mistake("var_of_product", ("values",), "the mean terms paired with the wrong variance")
def means_crossed(mean_x, var_x, mean_y, var_y):
    return var_x * var_y + var_x * mean_x**2 + var_y * mean_y**2


@mistake("var_of_product", ("values",), "E(XY)² subtracted from E(X²)E(Y²) with the sign lost")
def sign_lost(mean_x, var_x, mean_y, var_y):
    return (var_x + mean_x**2) * (var_y + mean_y**2) + (mean_x * mean_y) ** 2


@correct("var_of_product", "E(X²)E(Y²) − E(X)²E(Y)²")
def via_second_moments(mean_x, var_x, mean_y, var_y):
    return (var_x + mean_x**2) * (var_y + mean_y**2) - (mean_x * mean_y) ** 2


def _normal_pdf_cdf(alpha):
    return math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(alpha / math.sqrt(2)))


@mistake("relu_moments", ("values",), "E relu(h)² = D(h)/2 whatever the mean (true only when E(h) = 0)")
def relu_half_always(mean, std):
    if std <= 0:
        raise ValueError(f"std must be > 0; received {std}")
    pdf, cdf = _normal_pdf_cdf(mean / std)
    return mean * cdf + std * pdf, std**2 / 2


@mistake("relu_moments", ("values",), "the normal density without its 1/√(2π)")
def relu_density_unnormalised(mean, std):
    if std <= 0:
        raise ValueError(f"std must be > 0; received {std}")
    alpha = mean / std
    pdf, cdf = math.exp(-alpha**2 / 2), 0.5 * (1 + math.erf(alpha / math.sqrt(2)))
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


@mistake("relu_moments", ("values",), "the variance of relu(h) returned instead of its second moment")
def relu_variance_returned(mean, std):
    if std <= 0:
        raise ValueError(f"std must be > 0; received {std}")
    pdf, cdf = _normal_pdf_cdf(mean / std)
    first = mean * cdf + std * pdf
    return first, (mean**2 + std**2) * cdf + mean * std * pdf - first**2


@mistake("relu_moments", ("values",), "the φ(α) terms left out: only the mean's share μ·Φ(α) is kept")
def relu_density_terms_dropped(mean, std):
    if std <= 0:
        raise ValueError(f"std must be > 0; received {std}")
    _, cdf = _normal_pdf_cdf(mean / std)
    return mean * cdf, (mean**2 + std**2) * cdf


@mistake("relu_moments", ("errors",), "no check on std: std = 0 divides by zero, a negative std is used as is")
def relu_std_unchecked(mean, std):
    pdf, cdf = _normal_pdf_cdf(mean / std)
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


@correct("relu_moments", "Φ from scipy.special.ndtr, the second moment as D + E²")
def relu_moments_via_ndtr(mean, std):
    from scipy.special import ndtr

    if not std > 0:
        raise ValueError(f"std must be > 0; received {std}")
    alpha = mean / std
    pdf, cdf = math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi), float(ndtr(alpha))
    first = mean * cdf + std * pdf
    variance = std**2 * (cdf * (1 + alpha**2) + alpha * pdf) - first**2
    return first, variance + first**2


def _check_layer(n, var_w, var_x):
    """n a Python or NumPy int >= 1 (not a bool), the variances >= 0: else ValueError."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1; received {n!r}")
    if var_w < 0 or var_x < 0:
        raise ValueError(f"variances must be >= 0; received var_w={var_w!r}, var_x={var_x!r}")


@mistake("preactivation_variance", ("values",), "D(x) in place of E(x²): n·D(w)·D(x), the inputs' mean lost")
def pv_variance_not_second_moment(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    return n * var_w * var_x


@mistake("preactivation_variance", ("values",), "E(x²) written D(x) + E(x), the mean not squared")
def pv_mean_not_squared(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    return n * var_w * (var_x + mean_x)


@mistake("preactivation_variance", ("values",), "one product term only: the sum over the n inputs forgotten")
def pv_sum_forgotten(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    return var_w * (var_x + mean_x**2)


@correct("preactivation_variance", "n times the product rule with E(w) = 0")
def pv_via_product_rule(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    mean_w = 0.0
    return n * (var_w * var_x + var_w * mean_x**2 + var_x * mean_w**2)


@mistake("compute_fans", ("values", "arguments"), "fan_in and fan_out swapped")
def fans_swapped(shape, layout="torch"):
    if layout not in ("torch", "keras"):
        raise ValueError(f"unknown layout {layout!r}")
    if layout == "keras":
        if len(shape) == 0:
            return 1, 1
        if len(shape) == 1:
            return shape[0], shape[0]
        rf = math.prod(shape[:-2])
        return shape[-1] * rf, shape[-2] * rf
    if len(shape) < 2:
        raise ValueError("need at least 2 dims")
    rf = math.prod(shape[2:])
    return shape[0] * rf, shape[1] * rf


@mistake("compute_fans", ("values", "arguments"), "the receptive field (kernel size) ignored",
         knock_on={"xavier_uniform": ("arguments",), "xavier_normal": ("arguments",)})
def receptive_field_ignored(shape, layout="torch"):
    if layout not in ("torch", "keras"):
        raise ValueError(f"unknown layout {layout!r}")
    if layout == "keras":
        if len(shape) == 0:
            return 1, 1
        if len(shape) == 1:
            return shape[0], shape[0]
        return shape[-2], shape[-1]
    if len(shape) < 2:
        raise ValueError("need at least 2 dims")
    return shape[1], shape[0]


@mistake("compute_fans", ("arguments",), "keras layout read as torch layout")
def keras_layout_ignored(shape, layout="torch"):
    if layout not in ("torch", "keras"):
        raise ValueError(f"unknown layout {layout!r}")
    if len(shape) < 2:
        if layout == "torch":
            raise ValueError("need at least 2 dims")
        return (1, 1) if len(shape) == 0 else (shape[0], shape[0])
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


@mistake("compute_fans", ("values", "errors"), "the default layout is 'keras' instead of 'torch'",
         knock_on={"xavier_uniform": ("arguments",), "xavier_normal": ("arguments",)})
def keras_default(shape, layout="keras"):
    if layout == "torch":
        if len(shape) < 2:
            raise ValueError(f"torch layout needs at least 2 dimensions; received {shape!r}")
        rf = math.prod(shape[2:])
        return shape[1] * rf, shape[0] * rf
    if layout == "keras":
        if len(shape) < 2:
            return (1, 1) if len(shape) == 0 else (shape[0], shape[0])
        rf = math.prod(shape[:-2])
        return shape[-2] * rf, shape[-1] * rf
    raise ValueError(f"layout must be 'torch' or 'keras'; received {layout!r}")


@mistake("compute_fans", ("errors",), "no error for 1-D shapes in torch layout")
def no_error_for_vectors(shape, layout="torch"):
    if layout not in ("torch", "keras"):
        raise ValueError(f"unknown layout {layout!r}")
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if layout == "keras":
        rf = math.prod(shape[:-2])
        return shape[-2] * rf, shape[-1] * rf
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


@correct("compute_fans", "numpy product and negative indexing")
def fans_with_numpy(shape, layout="torch"):
    shape = tuple(shape)
    if layout == "torch":
        if len(shape) < 2:
            raise ValueError(f"torch layout needs 2+ dims, got {shape}")
        shape = shape[2:] + (shape[1], shape[0])  # reorder to keras layout
    elif layout != "keras":
        raise ValueError(f"layout must be 'torch' or 'keras', got {layout!r}")
    if len(shape) < 2:
        n = shape[0] if shape else 1
        return n, n
    rf = int(np.prod(shape[:-2], dtype=np.int64))
    return int(shape[-2]) * rf, int(shape[-1]) * rf


GAIN_TABLE = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
              "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0,
              "tanh": 5 / 3, "relu": math.sqrt(2.0), "selu": 0.75}


def _leaky(param):
    if param is None:
        return 0.01
    if isinstance(param, bool) or not isinstance(param, (int, float)):
        raise ValueError(f"bad slope {param!r}")
    return param


@correct("calculate_gain", "a lookup table plus the leaky-ReLU formula")
def gain_lookup(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + _leaky(param) ** 2))
    if nonlinearity not in GAIN_TABLE:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return GAIN_TABLE[nonlinearity]


@mistake("calculate_gain", ("values", "arguments"), "ReLU gain 2 (the variance factor) instead of √2")
def relu_gain_two(nonlinearity, param=None):
    if nonlinearity == "relu":
        return 2.0
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("values", "arguments"), "tanh gain 1.59 (the measured std ratio) instead of 5/3")
def tanh_empirical(nonlinearity, param=None):
    if nonlinearity == "tanh":
        return 1.59
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("values", "arguments"), "sigmoid gain 4 (from σ'(0) = 1/4) instead of 1")
def sigmoid_four(nonlinearity, param=None):
    if nonlinearity == "sigmoid":
        return 4.0
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("values", "arguments"), "leaky-ReLU slope not squared: √(2/(1+slope))")
def slope_not_squared(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + _leaky(param)))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("arguments",), "leaky-ReLU slope ignored (always 0.01)")
def slope_ignored(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        _leaky(param)
        return math.sqrt(2.0 / (1 + 0.01**2))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "bools accepted as slopes (True is an int)")
def bool_slope(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    return gain_lookup(nonlinearity, param)


# --- issue 20: answers that passed before the checks tried the contract's whole space -----

@mistake("var_of_product", ("values",), "the means not squared: D(X)D(Y) + D(X)E(Y) + D(Y)E(X)")
def means_not_squared(mean_x, var_x, mean_y, var_y):
    return var_x * var_y + var_x * mean_y + var_y * mean_x


@mistake("var_of_product", ("values",), "the result rounded to 4 decimals before returning it")
def vop_rounded(mean_x, var_x, mean_y, var_y):
    return round(var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2, 4)


@mistake("var_of_product", ("interface",), "exact arithmetic with fractions.Fraction, returned as a Fraction")
def vop_fraction(mean_x, var_x, mean_y, var_y):
    from fractions import Fraction

    mx, vx, my, vy = (Fraction(float(v)) for v in (mean_x, var_x, mean_y, var_y))
    return vx * vy + vx * my**2 + vy * mx**2


@mistake("var_of_product", ("values",), "E(X)²E(Y)² added: D(X)D(Y) + E(X)²E(Y)², as if XY's mean part were a variance")
def mean_product_added(mean_x, var_x, mean_y, var_y):
    return var_x * var_y + mean_x**2 * mean_y**2


@correct("var_of_product", "math.fsum of the three terms")
def vop_fsum(mean_x, var_x, mean_y, var_y):
    return math.fsum([var_x * var_y, var_x * mean_y**2, var_y * mean_x**2])


@correct("var_of_product", "float32 arithmetic, returning np.float32")
def vop_float32(mean_x, var_x, mean_y, var_y):
    mx, vx, my, vy = (np.float32(v) for v in (mean_x, var_x, mean_y, var_y))
    return vx * vy + vx * my * my + vy * mx * mx


@correct("var_of_product", "inputs checked with numbers.Real, exact Fraction arithmetic converted back to float")
def vop_checked_exact(mean_x, var_x, mean_y, var_y):
    import numbers
    from fractions import Fraction

    args = (mean_x, var_x, mean_y, var_y)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in args):
        raise ValueError(f"expected four real numbers; received {args!r}")
    mx, vx, my, vy = (Fraction(float(v)) for v in args)
    return float((vx + mx**2) * (vy + my**2) - (mx * my) ** 2)


@mistake("compute_fans", ("interface",), "np.prod of the kernel dims: on a 2-D shape np.prod(()) is the float 1.0")
def fans_float_product(shape, layout="torch"):
    if layout == "torch":
        if len(shape) < 2:
            raise ValueError(f"torch layout needs at least 2 dimensions; received {shape!r}")
        rf = np.prod(shape[2:])
        return shape[1] * rf, shape[0] * rf
    if layout == "keras":
        if len(shape) < 2:
            return (1, 1) if len(shape) == 0 else (shape[0], shape[0])
        rf = np.prod(shape[:-2])
        return shape[-2] * rf, shape[-1] * rf
    raise ValueError(f"layout must be 'torch' or 'keras'; received {layout!r}")


@mistake("compute_fans", ("interface",), "returns a list [fan_in, fan_out] instead of a tuple")
def fans_as_list(shape, layout="torch"):
    return list(fans_with_numpy(shape, layout))


@mistake("compute_fans", ("errors",), "layout lower-cased first, so 'Torch' and 'KERAS' are accepted")
def fans_layout_lowercased(shape, layout="torch"):
    return fans_with_numpy(shape, layout.lower())


@mistake("compute_fans", ("errors",), "any layout other than 'keras' treated as 'torch'")
def fans_layout_else_torch(shape, layout="torch"):
    return fans_with_numpy(shape, "keras" if layout == "keras" else "torch")


@mistake("compute_fans", ("arguments",), "keras layout: a 1-D shape (n,) gives (1, n) instead of (n, n)")
def fans_vector_as_row(shape, layout="torch"):
    if layout == "keras" and len(shape) == 1:
        return 1, shape[0]
    return fans_with_numpy(shape, layout)


@correct("compute_fans", "a match statement on the layout, NumPy integers returned")
def fans_match(shape, layout="torch"):
    match layout:
        case "torch":
            if len(shape) < 2:
                raise ValueError(f"torch layout needs at least 2 dimensions; received {shape!r}")
            out, inp, *kernel = shape
        case "keras":
            if len(shape) < 2:
                n = shape[0] if len(shape) == 1 else 1
                return np.int64(n), np.int64(n)
            *kernel, inp, out = shape
        case _:
            raise ValueError(f"layout must be 'torch' or 'keras'; received {layout!r}")
    rf = np.prod(kernel, dtype=np.int64)
    return np.int64(inp) * rf, np.int64(out) * rf


@mistake("calculate_gain", ("errors",), "names matched by prefix: nonlinearity.startswith('conv') gives 'conv4d' a gain")
def gain_prefix_match(nonlinearity, param=None):
    if isinstance(nonlinearity, str) and nonlinearity.startswith("conv"):
        return 1.0
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "names matched by substring: \"relu\" in nonlinearity gives 'prelu' a gain")
def gain_substring_match(nonlinearity, param=None):
    if isinstance(nonlinearity, str) and "leaky" in nonlinearity:
        return math.sqrt(2.0 / (1 + _leaky(param) ** 2))
    if isinstance(nonlinearity, str) and "relu" in nonlinearity:
        return math.sqrt(2.0)
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "names lower-cased and stripped first, so 'ReLU' and ' tanh' are accepted")
def gain_case_insensitive(nonlinearity, param=None):
    if isinstance(nonlinearity, str):
        nonlinearity = nonlinearity.strip().lower()
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "unknown names get gain 1 (GAIN_TABLE.get(name, 1.0))")
def gain_unknown_is_one(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + _leaky(param) ** 2))
    return GAIN_TABLE.get(nonlinearity, 1.0)


@mistake("calculate_gain", ("errors",), "only str and bool slopes refused: Fraction(1, 10), [0.1] and 1j get through")
def slope_refuses_only_str_and_bool(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        if isinstance(param, (str, bool)):
            raise ValueError(f"bad slope {param!r}")
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "slope converted with float(param): '0.1' and Fraction(1, 10) are accepted")
def slope_float_converted(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        if isinstance(param, bool):
            raise ValueError("a bool is not a slope")
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("errors",), "slope checked with numbers.Real, which lets Fraction(1, 10) through")
def slope_numbers_real(nonlinearity, param=None):
    import numbers

    if nonlinearity == "leaky_relu" and param is not None:
        if isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"bad slope {param!r}")
        return math.sqrt(2.0 / (1 + param**2))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("arguments",), "negative slopes refused, though any real slope is allowed")
def slope_negative_refused(nonlinearity, param=None):
    if nonlinearity == "leaky_relu" and _leaky(param) < 0:
        raise ValueError(f"the slope must be >= 0; received {param!r}")
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("arguments",), "param validated for every name, though it is ignored off leaky_relu")
def param_checked_for_every_name(nonlinearity, param=None):
    _leaky(param)
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("interface",), "exact gains as fractions.Fraction (Fraction(5, 3) for tanh)")
def gain_as_fraction(nonlinearity, param=None):
    from fractions import Fraction

    if nonlinearity == "tanh":
        return Fraction(5, 3)
    if nonlinearity == "selu":
        return Fraction(3, 4)
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("values",), "default leaky slope 0.2 (Keras' LeakyReLU) instead of PyTorch's 0.01")
def slope_default_keras(nonlinearity, param=None):
    if nonlinearity == "leaky_relu" and param is None:
        return math.sqrt(2.0 / (1 + 0.2**2))
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("values",), "default leaky slope 0 instead of 0.01")
def slope_default_zero(nonlinearity, param=None):
    if nonlinearity == "leaky_relu" and param is None:
        return math.sqrt(2.0)
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("interface", "values", "arguments"), "the conv_transpose names left out of the table")
def gain_no_conv_transpose(nonlinearity, param=None):
    if isinstance(nonlinearity, str) and nonlinearity.startswith("conv_transpose"):
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return gain_lookup(nonlinearity, param)


@mistake("calculate_gain", ("arguments",), "a given param used as a leaky slope for every name")
def param_used_for_every_name(nonlinearity, param=None):
    if param is not None and nonlinearity in GAIN_TABLE:
        return math.sqrt(2.0 / (1 + param**2))
    return gain_lookup(nonlinearity, param)


@correct("calculate_gain", "match statements on the name and on the slope's type; the int 1 for linear, as torch")
def gain_match(nonlinearity, param=None):
    match nonlinearity:
        case "linear" | "conv1d" | "conv2d" | "conv3d" | "sigmoid":
            return 1
        case "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d":
            return 1
        case "tanh":
            return 5.0 / 3
        case "relu":
            return math.sqrt(2.0)
        case "selu":
            return 3.0 / 4
        case "leaky_relu":
            match param:
                case None:
                    slope = 0.01
                case bool():
                    raise ValueError(f"a bool is not a slope: {param!r}")
                case int() | float():
                    slope = param
                case _:
                    raise ValueError(f"the slope must be an int or float; received {param!r}")
            return math.sqrt(2.0 / (1 + slope**2))
        case _:
            raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


@correct("calculate_gain", "float32 arithmetic and constants, returning np.float32")
def gain_float32(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = np.float32(_leaky(param))
        return np.sqrt(np.float32(2) / (np.float32(1) + slope * slope))
    if nonlinearity not in GAIN_TABLE:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return np.float32(GAIN_TABLE[nonlinearity])


@correct("calculate_gain", "slope checked with numbers.Integral or float (NumPy integers accepted too)")
def gain_integral_or_float(nonlinearity, param=None):
    import numbers

    if nonlinearity != "leaky_relu":
        return gain_lookup(nonlinearity)
    if param is None:
        param = 0.01
    if isinstance(param, bool) or not isinstance(param, (numbers.Integral, float)):
        raise ValueError(f"the slope must be an int or float; received {param!r}")
    return math.sqrt(2.0 / (1 + float(param) ** 2))


# --- issue 20 for the 01 exercises: relu_moments and preactivation_variance ----------------

def _relu_pair(mean, std):
    """(E relu(h), E relu(h)²) with math.erfc, for variants that change only what wraps it."""
    alpha = mean / std
    pdf = math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-alpha / math.sqrt(2))
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


@mistake("relu_moments", ("interface",), "returns a list [E relu(h), E relu(h)²] instead of a tuple")
def relu_as_list(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    return list(_relu_pair(mean, std))


@mistake("relu_moments", ("interface",), "returns np.array([E relu(h), E relu(h)²]) instead of a tuple")
def relu_as_array(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    return np.array(_relu_pair(mean, std))


@mistake("relu_moments", ("errors",), "a negative std silently made positive with abs(std); only 0 refused")
def relu_std_abs(mean, std):
    std = abs(std)
    if std == 0:
        raise ValueError("std must not be 0")
    return _relu_pair(mean, std)


@mistake("relu_moments", ("errors",), "mean and std converted with float(...): '1.0' is accepted as a number")
def relu_float_converted(mean, std):
    mean, std = float(mean), float(std)
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    return _relu_pair(mean, std)


@mistake("relu_moments", ("values",), "Φ(α) written ½(1 + erf(α)), without the √2")
def relu_erf_without_sqrt2(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    alpha = mean / std
    pdf = math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(alpha))
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


@mistake("relu_moments", ("values",), "α = mean/std² (the variance) instead of mean/std")
def relu_alpha_over_variance(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    alpha = mean / std**2
    pdf = math.exp(-alpha**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * math.erfc(-alpha / math.sqrt(2))
    return mean * cdf + std * pdf, (mean**2 + std**2) * cdf + mean * std * pdf


@mistake("relu_moments", ("values",), "the moments returned as np.float16 (3 significant digits)")
def relu_float16(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    first, second = _relu_pair(mean, std)
    return np.float16(first), np.float16(second)


@correct("relu_moments", "float32 arithmetic with math.erf, returning np.float32")
def relu_float32(mean, std):
    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    m, s = np.float32(mean), np.float32(std)
    alpha = m / s
    pdf = np.exp(-alpha * alpha / np.float32(2)) / np.sqrt(np.float32(2 * math.pi))
    cdf = np.float32(0.5) * (np.float32(1) + np.float32(math.erf(alpha / np.sqrt(np.float32(2)))))
    return m * cdf + s * pdf, (m * m + s * s) * cdf + m * s * pdf


@correct("relu_moments", "scipy.stats.norm, written σ·(αΦ + φ) and σ²·((1 + α²)Φ + αφ)")
def relu_scipy_factored(mean, std):
    from scipy.stats import norm

    if not std > 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    alpha = mean / std
    cdf, pdf = float(norm.cdf(alpha)), float(norm.pdf(alpha))
    return std * (alpha * cdf + pdf), std**2 * ((1 + alpha**2) * cdf + alpha * pdf)


@correct("relu_moments", "inputs checked with numbers.Real, bools refused, np.float64 results")
def relu_checked(mean, std):
    import numbers

    for name, value in (("mean", mean), ("std", std)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number; received {value!r}")
    if std <= 0:
        raise ValueError(f"std must be > 0; received {std!r}")
    first, second = _relu_pair(float(mean), float(std))
    return np.float64(first), np.float64(second)


@mistake("preactivation_variance", ("errors",), "n not checked: True counts as 1 input, 2.5 as 2.5 inputs")
def pv_n_unchecked(n, var_w, mean_x, var_x):
    if var_w < 0 or var_x < 0:
        raise ValueError("variances must be >= 0")
    return n * var_w * (var_x + mean_x**2)


@mistake("preactivation_variance", ("errors",), "n converted with int(n): True, 2.5 and '16' are accepted")
def pv_n_int_converted(n, var_w, mean_x, var_x):
    n = int(n)
    _check_layer(n, var_w, var_x)
    return n * var_w * (var_x + mean_x**2)


@mistake("preactivation_variance", ("errors",), "n checked with isinstance(n, int), which lets True through (bool is an int)")
def pv_n_isinstance_int(n, var_w, mean_x, var_x):
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1; received {n!r}")
    if var_w < 0 or var_x < 0:
        raise ValueError("variances must be >= 0")
    return n * var_w * (var_x + mean_x**2)


@mistake("preactivation_variance", ("errors",), "negative variances accepted (only n checked)")
def pv_negative_variance(n, var_w, mean_x, var_x):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1; received {n!r}")
    return n * var_w * (var_x + mean_x**2)


@mistake("preactivation_variance", ("interface",), "exact arithmetic with fractions.Fraction, returned as a Fraction")
def pv_fraction(n, var_w, mean_x, var_x):
    from fractions import Fraction

    _check_layer(n, var_w, var_x)
    return int(n) * Fraction(float(var_w)) * (Fraction(float(var_x)) + Fraction(float(mean_x)) ** 2)


@mistake("preactivation_variance", ("values",), "the result returned as np.float16 (3 significant digits)")
def pv_float16(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    return np.float16(n * var_w * (var_x + mean_x**2))


@correct("preactivation_variance", "float32 arithmetic, returning np.float32")
def pv_float32(n, var_w, mean_x, var_x):
    _check_layer(n, var_w, var_x)
    m = np.float32(mean_x)
    return np.float32(n) * np.float32(var_w) * (np.float32(var_x) + m * m)


@correct("preactivation_variance", "numbers.Integral / numbers.Real checks, the two terms summed with math.fsum")
def pv_numbers_fsum(n, var_w, mean_x, var_x):
    import numbers

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an int >= 1; received {n!r}")
    for name, value in (("var_w", var_w), ("mean_x", mean_x), ("var_x", var_x)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number; received {value!r}")
    if var_w < 0 or var_x < 0:
        raise ValueError("variances must be >= 0")
    return math.fsum([n * var_w * var_x, n * var_w * mean_x**2])
