"""xavier_*, kaiming_*, truncated_normal, variance_scaling."""

import math

import numpy as np
from scipy.special import ndtr, ndtri  # noqa: F401  (pasted sources may import scipy)

from . import correct, mistake


def _fans(shape):
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


def _rng(rng):
    return rng if rng is not None else np.random.default_rng()


# --- Xavier uniform ---------------------------------------------------------------------

@correct("xavier_uniform", "rng.random() rescaled to [-a, a)")
def xu_from_random(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return (2.0 * _rng(rng).random(shape) - 1.0) * a


@correct("xavier_uniform", "float32 output")
def xu_float32(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape).astype(np.float32)


@mistake("xavier_uniform", ("scale", "arguments"), "the std used as the uniform bound")
def std_as_bound(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-std, std, size=shape)


@mistake("xavier_uniform", ("scale", "distribution", "arguments"),
         "a normal of the right variance instead of a uniform")
def normal_not_uniform(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    return _rng(rng).normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


@mistake("xavier_uniform", ("arguments",), "the receptive field ignored: fans from shape[0], shape[1]")
def xu_no_receptive_field(shape, gain=1.0, rng=None):
    a = gain * math.sqrt(6.0 / (shape[0] + shape[1]))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("arguments",), "fans computed in Keras' layout from a PyTorch-layout shape")
def xu_keras_layout(shape, gain=1.0, rng=None):
    receptive_field = math.prod(shape[:-2])
    fan_in, fan_out = shape[-2] * receptive_field, shape[-1] * receptive_field
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("arguments",), "gain ignored")
def xu_gain_ignored(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("arguments",), "gain squared")
def xu_gain_squared(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain**2 * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("arguments",), "gain under the square root")
def xu_gain_under_root(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = math.sqrt(6.0 * gain / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("scale", "arguments"), "a bound 2 % too large")
def xu_bound_2pct(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = 1.02 * gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("scale", "arguments"), "Caffe's 'xavier': fan_in only")
def xu_fan_in_only(shape, gain=1.0, rng=None):
    fan_in, _ = _fans(shape)
    a = gain * math.sqrt(3.0 / fan_in)
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("rng",), "draws from NumPy's global RNG instead of rng")
def xu_global_rng(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.uniform(-a, a, size=shape)


@mistake("xavier_uniform", ("scale", "distribution", "arguments", "rng"), "a hard-coded seed when rng is None, and rng ignored")
def xu_fixed_seed(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(42).uniform(-a, a, size=shape)


# --- Xavier normal ----------------------------------------------------------------------

@correct("xavier_normal", "standard_normal() times σ")
def xn_standard(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) * _rng(rng).standard_normal(shape)


@mistake("xavier_normal", ("scale", "distribution", "arguments"),
         "a normal truncated at ±2σ (Keras' law without its correction) where torch's is untruncated")
def xn_truncated(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    rng = _rng(rng)
    x = rng.normal(0.0, std, size=shape)
    bad = np.abs(x) > 2 * std
    while bad.any():
        x[bad] = rng.normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(x) > 2 * std
    return x


@mistake("xavier_normal", ("distribution", "arguments"), "uniform values with the right std instead of a normal")
def xn_uniform(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=shape)


@mistake("xavier_normal", ("arguments",), "gain under the square root")
def xn_gain_under_root(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    return _rng(rng).normal(0.0, math.sqrt(2.0 * gain / (fan_in + fan_out)), size=shape)


@mistake("xavier_normal", ("arguments",), "kernel size ignored: fans from shape[1] and shape[0] alone")
def xn_no_receptive_field(shape, gain=1.0, rng=None):
    return _rng(rng).normal(0.0, gain * math.sqrt(2.0 / (shape[0] + shape[1])), size=shape)


@mistake("xavier_normal", ("scale", "arguments"), "fan_avg not halved: σ = √(1/(fan_in+fan_out))")
def xn_avg_not_halved(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    return _rng(rng).normal(0.0, gain * math.sqrt(1.0 / (fan_in + fan_out)), size=shape)


@mistake("xavier_normal", ("scale", "arguments"), "variance passed where numpy wants the std")
def xn_variance_as_std(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    return _rng(rng).normal(0.0, gain**2 * 2.0 / (fan_in + fan_out), size=shape)


@mistake("xavier_normal", ("scale", "distribution", "arguments"),
         "prettytensor's truncated normal with σ = √(3/(fan_in+fan_out))")
def xn_prettytensor(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(3.0 / (fan_in + fan_out))
    x = _rng(rng).normal(0.0, std, size=shape)
    bad = np.abs(x) > 2 * std
    while bad.any():
        x[bad] = _rng(rng).normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(x) > 2 * std
    return x


# --- Kaiming ----------------------------------------------------------------------------

GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0), "selu": 0.75}


def _gain(nonlinearity, a):
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + a**2))
    if nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity not in GAINS:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return GAINS[nonlinearity]


def _fan(shape, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(shape)
    return fan_in if mode == "fan_in" else fan_out


@correct("kaiming_uniform", "bound computed in one expression, scaled rng.random()")
def ku_one_liner(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return bound * (2 * _rng(rng).random(shape) - 1)


@mistake("kaiming_uniform", ("scale", "arguments"), "ReLU gain 2 instead of √2")
def ku_gain_two(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    g = _gain(nonlinearity, a) ** 2
    bound = math.sqrt(3.0) * g / math.sqrt(_fan(shape, mode))
    return _rng(rng).uniform(-bound, bound, size=shape)


@mistake("kaiming_uniform", ("arguments",), "mode ignored (always fan_in)")
def ku_mode_ignored(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    _fan(shape, mode)
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(_fan(shape, "fan_in"))
    return _rng(rng).uniform(-bound, bound, size=shape)


@mistake("kaiming_uniform", ("scale", "arguments"), "fan_in and fan_out swapped")
def ku_fans_swapped(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    other = {"fan_in": "fan_out", "fan_out": "fan_in"}.get(mode, mode)
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(_fan(shape, other))
    return _rng(rng).uniform(-bound, bound, size=shape)


@mistake("kaiming_uniform", ("scale", "arguments"), "the std gain/√fan used as the uniform's bound (√3 left out)")
def ku_std_as_bound(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    bound = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return _rng(rng).uniform(-bound, bound, size=shape)


@mistake("kaiming_uniform", ("arguments",), "leaky slope ignored (always √2)")
def ku_slope_ignored(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    g = math.sqrt(2.0) if nonlinearity == "leaky_relu" else _gain(nonlinearity, a)
    bound = math.sqrt(3.0) * g / math.sqrt(_fan(shape, mode))
    return _rng(rng).uniform(-bound, bound, size=shape)


@mistake("kaiming_uniform", ("errors",), "an unknown mode silently treated as fan_out")
def ku_mode_unchecked(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    fan_in, fan_out = _fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(fan)
    return _rng(rng).uniform(-bound, bound, size=shape)


@correct("kaiming_normal", "float32 output from standard_normal")
def kn_float32(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return (std * _rng(rng).standard_normal(shape)).astype(np.float32)


@mistake("kaiming_normal", ("scale", "arguments"), "uniform bound formula used as the normal's std")
def kn_sqrt3(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return _rng(rng).normal(0.0, std, size=shape)


@mistake("kaiming_normal", ("scale", "arguments"), "fan_in and fan_out swapped")
def kn_fans_swapped(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    other = {"fan_in": "fan_out", "fan_out": "fan_in"}.get(mode, mode)
    return _rng(rng).normal(0.0, _gain(nonlinearity, a) / math.sqrt(_fan(shape, other)), size=shape)


@mistake("kaiming_normal", ("scale", "arguments"), "the gain left out: std = 1/√fan")
def kn_no_gain(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    _gain(nonlinearity, a)
    return _rng(rng).normal(0.0, 1.0 / math.sqrt(_fan(shape, mode)), size=shape)


@mistake("kaiming_normal", ("distribution", "arguments"), "a uniform of the right variance instead of a normal")
def kn_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return _rng(rng).uniform(-math.sqrt(3) * std, math.sqrt(3) * std, size=shape)


# --- truncated normal -------------------------------------------------------------------

@correct("truncated_normal", "rejection sampling: redraw the values outside [a, b]")
def tn_rejection(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    rng = _rng(rng)
    x = rng.normal(mean, std, size=shape)
    bad = (x < a) | (x > b)
    while bad.any():
        x[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (x < a) | (x > b)
    return x


@correct("truncated_normal", "inverse CDF with scipy.special")
def tn_inverse_cdf(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    lo, hi = ndtr((a - mean) / std), ndtr((b - mean) / std)
    return mean + std * ndtri(_rng(rng).uniform(lo, hi, size=shape))


@mistake("truncated_normal", ("scale", "distribution", "arguments"), "clipping instead of resampling")
def tn_clip(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    return np.clip(_rng(rng).normal(mean, std, size=shape), a, b)


@mistake("truncated_normal", ("distribution", "arguments"), "bounds taken relative to the mean in units of std")
def tn_relative_bounds(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    return tn_rejection(shape, mean, std, mean + a * std, mean + b * std, rng)


@mistake("truncated_normal", ("scale", "distribution", "arguments"), "no truncation at all")
def tn_untruncated(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    return _rng(rng).normal(mean, std, size=shape)


@mistake("truncated_normal", ("distribution", "arguments"), "mean ignored (centred at 0)")
def tn_mean_ignored(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    return tn_rejection(shape, 0.0, std, a, b, rng)


# --- variance scaling -------------------------------------------------------------------

def _keras_fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def _vs_variance(shape, scale, mode):
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    fan_in, fan_out = _keras_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}.get(mode)
    if n is None:
        raise ValueError(f"bad mode {mode!r}")
    return scale / max(1.0, n)


def _draw_vs(shape, s, distribution, rng, correction=0.87962566103423978):
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3 * s), math.sqrt(3 * s), size=shape)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(s), size=shape)
    if distribution != "truncated_normal":
        raise ValueError(f"bad distribution {distribution!r}")
    sigma = math.sqrt(s) / correction
    return tn_rejection(shape, 0.0, sigma, -2 * sigma, 2 * sigma, rng)


@correct("variance_scaling", "dictionary of fans, rejection-sampled truncation")
def vs_reference_like(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    return _draw_vs(shape, _vs_variance(shape, scale, mode), distribution, _rng(rng))


@mistake("variance_scaling", ("scale", "arguments"), "truncation without the 0.8796 correction")
def vs_no_correction(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    return _draw_vs(shape, _vs_variance(shape, scale, mode), distribution, _rng(rng), correction=1.0)


@mistake("variance_scaling", ("scale", "arguments"), "torch layout used for fans: (out, in, *k)")
def vs_torch_layout(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    return _draw_vs(shape, _vs_variance(tuple(shape)[::-1], scale, mode), distribution, _rng(rng))


@mistake("variance_scaling", ("arguments",), "fan_avg not halved: n = fan_in + fan_out")
def vs_avg_sum(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    if mode == "fan_avg":
        s /= 2
    return _draw_vs(shape, s, distribution, _rng(rng))


@mistake("variance_scaling", ("errors",), "scale ≤ 0 accepted")
def vs_scale_unchecked(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    return _draw_vs(shape, _vs_variance(shape, abs(scale) + 1e-12, mode), distribution, _rng(rng))


# --- issue 17: every distribution judged by its family; independence --------------------------
# Wrong answers whose every value has the right law (or the right mean and std) and that the
# exact family tests and the independence tests of the distribution and arguments aspects catch.

@mistake("variance_scaling", ("arguments",),
         "distribution picked by a substring test: 'truncated' in distribution is True for 'untruncated_normal'")
def vs_substring_truncated(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    rng = _rng(rng)
    if "truncated" in distribution:
        sigma = math.sqrt(s) / 0.87962566103423978
        return tn_rejection(shape, 0.0, sigma, -2 * sigma, 2 * sigma, rng)
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3 * s), math.sqrt(3 * s), size=shape)
    raise ValueError(f"bad distribution {distribution!r}")


@mistake("variance_scaling", ("scale", "distribution", "arguments"),
         "truncated normal by clipping at ±2σ instead of redrawing")
def vs_clipped(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    rng = _rng(rng)
    if distribution == "truncated_normal":
        sigma = math.sqrt(s) / 0.87962566103423978
        return np.clip(rng.normal(0.0, sigma, size=shape), -2 * sigma, 2 * sigma)
    return _draw_vs(shape, s, distribution, rng)


@mistake("variance_scaling", ("arguments",),
         "the untruncated normal clipped at ±3σ 'to avoid outliers'")
def vs_untruncated_clipped(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    x = _draw_vs(shape, s, distribution, _rng(rng))
    if distribution == "untruncated_normal":
        x = np.clip(x, -3 * math.sqrt(s), 3 * math.sqrt(s))
    return x


@correct("variance_scaling", "truncated normal by inverse CDF (scipy.special.ndtri)")
def vs_inverse_cdf(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    rng = _rng(rng)
    if distribution == "truncated_normal":
        sigma = math.sqrt(s) / 0.87962566103423978
        return sigma * ndtri(rng.uniform(ndtr(-2.0), ndtr(2.0), size=shape))
    return _draw_vs(shape, s, distribution, rng)


@correct("variance_scaling", "truncated normal from scipy.stats.truncnorm, float32 output")
def vs_scipy_truncnorm(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    from scipy import stats

    s = _vs_variance(shape, scale, mode)
    rng = _rng(rng)
    if distribution == "truncated_normal":
        sigma = math.sqrt(s) / 0.87962566103423978
        x = stats.truncnorm.rvs(-2.0, 2.0, scale=sigma, size=shape, random_state=rng)
    else:
        x = _draw_vs(shape, s, distribution, rng)
    return x.astype(np.float32)


@correct("variance_scaling", "float32 uniforms with 23 random bits, as TensorFlow draws them")
def vs_23_bit_uniforms(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None):
    s = _vs_variance(shape, scale, mode)
    rng = _rng(rng)
    if distribution != "uniform":
        return _draw_vs(shape, s, distribution, rng).astype(np.float32)
    u = (rng.integers(0, 2**23, size=shape) / 2**23).astype(np.float32)  # 2²³ levels in [0, 1)
    limit = np.float32(math.sqrt(3 * s))
    return (2 * u - 1) * limit


@correct("truncated_normal", "scipy.stats.truncnorm with standardised bounds")
def tn_scipy(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    from scipy import stats

    return stats.truncnorm.rvs((a - mean) / std, (b - mean) / std, loc=mean, scale=std, size=shape,
                               random_state=_rng(rng))


@correct("truncated_normal", "inverse CDF in float32, filled column-major")
def tn_inverse_cdf_float32_columns(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    lo, hi = ndtr((a - mean) / std), ndtr((b - mean) / std)
    u = _rng(rng).uniform(lo, hi, size=math.prod(shape))
    x = np.clip(mean + std * ndtri(u), a, b)  # clip only guards float rounding at the bounds
    return x.reshape(shape, order="F").astype(np.float32)


@correct("xavier_normal", "Box–Muller from two uniforms")
def xn_box_muller(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    rng = _rng(rng)
    n = math.prod(shape)
    u1, u2 = 1.0 - rng.random(n), rng.random(n)  # u1 in (0, 1]: log(u1) finite
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    return (std * z).reshape(shape)


@correct("xavier_uniform", "float32 uniforms (24 random bits), filled column-major")
def xu_float32_columns(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = np.float32(gain * math.sqrt(6.0 / (fan_in + fan_out)))
    u = _rng(rng).random(math.prod(shape), dtype=np.float32)
    return ((2 * u - 1) * a).reshape(shape, order="F")


@correct("kaiming_uniform", "drawn one output unit at a time, last unit first")
def ku_unit_by_unit(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    rng = _rng(rng)
    w = np.empty(shape)
    for unit in reversed(range(shape[0])):
        w[unit] = rng.uniform(-bound, bound, size=shape[1:])
    return w


@mistake("xavier_uniform", ("distribution", "arguments"), "samples returned sorted")
def xu_sorted(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.sort(_rng(rng).uniform(-a, a, size=math.prod(shape))).reshape(shape)


@mistake("xavier_uniform", ("distribution", "arguments"), "each unit's weights sorted (np.sort along the last axis)")
def xu_rows_sorted(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.sort(_rng(rng).uniform(-a, a, size=shape), axis=-1)


@mistake("xavier_uniform", ("distribution", "arguments"), "sorted along the first axis (np.sort(w, axis=0))")
def xu_columns_sorted(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.sort(_rng(rng).uniform(-a, a, size=shape), axis=0)


@mistake("xavier_uniform", ("distribution", "arguments"), "partly sorted: the first half of the values in order")
def xu_half_sorted(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    x = _rng(rng).uniform(-a, a, size=math.prod(shape))
    half = x.size // 2
    x[:half] = np.sort(x[:half])
    return x.reshape(shape)


@mistake("xavier_uniform", ("scale", "distribution", "arguments"), "half the samples and their negatives (antithetic pairs)")
def xu_antithetic(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    n = math.prod(shape)
    half = _rng(rng).uniform(-a, a, size=(n + 1) // 2)
    return np.concatenate([half, -half])[:n].reshape(shape)


@mistake("xavier_uniform", ("scale", "distribution", "arguments"), "a block of samples drawn once and repeated")
def xu_repeated_block(shape, gain=1.0, rng=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    n = math.prod(shape)
    block = _rng(rng).uniform(-a, a, size=(n + 1) // 2)
    return np.tile(block, 2)[:n].reshape(shape)


@mistake("kaiming_normal", ("distribution", "arguments"), "sorted by magnitude (np.sort of |w|, signs kept random)")
def kn_sorted_by_magnitude(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    rng = _rng(rng)
    x = rng.normal(0.0, std, size=math.prod(shape))
    x = np.sort(np.abs(x)) * rng.choice([-1.0, 1.0], size=x.size)
    return x.reshape(shape)


@mistake("kaiming_normal", ("scale", "distribution", "arguments"), "half the samples and their negatives (antithetic pairs)")
def kn_antithetic(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    n = math.prod(shape)
    half = _rng(rng).normal(0.0, std, size=(n + 1) // 2)
    return np.concatenate([half, -half])[:n].reshape(shape)


@mistake("kaiming_normal", ("scale", "distribution", "arguments"), "one unit's weights drawn and broadcast to every unit")
def kn_row_broadcast(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    row = _rng(rng).normal(0.0, std, size=(1, *shape[1:]))
    return np.broadcast_to(row, shape).copy()


@mistake("kaiming_normal", ("distribution", "arguments"), "a normal truncated at ±2σ, rescaled to the right std")
def kn_truncated_rescaled(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    std = _gain(nonlinearity, a) / math.sqrt(_fan(shape, mode)) / 0.87962566103423978
    return tn_rejection(shape, 0.0, std, -2 * std, 2 * std, rng)


@mistake("truncated_normal", ("distribution", "arguments"), "samples returned sorted")
def tn_sorted(shape, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    x = tn_rejection((math.prod(shape),), mean, std, a, b, rng)
    return np.sort(x).reshape(shape)
