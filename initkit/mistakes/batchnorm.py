"""batch_norm."""

import numpy as np

from . import correct, mistake


def _axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _p(v, x):
    return np.reshape(v, (1, -1) + (1,) * (x.ndim - 2))


@correct("batch_norm", "float32 computation for float32 input, via transposes")
def bn_transpose(x, gamma, beta, eps=1e-5):
    flat = np.moveaxis(x, 1, -1)
    mean, var = flat.reshape(-1, x.shape[1]).mean(0), flat.reshape(-1, x.shape[1]).var(0)
    y = (flat - mean) / np.sqrt(var + eps) * gamma + beta
    return np.moveaxis(y, -1, 1)


@mistake("batch_norm", ("values", "arguments"), "unbiased variance (ddof=1)")
def bn_unbiased(x, gamma, beta, eps=1e-5):
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, ddof=1, keepdims=True)
    return _p(gamma, x) * (x - mean) / np.sqrt(var + eps) + _p(beta, x)


@mistake("batch_norm", ("values", "arguments"), "eps outside the square root")
def bn_eps_outside(x, gamma, beta, eps=1e-5):
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    return _p(gamma, x) * (x - mean) / (np.sqrt(var) + eps) + _p(beta, x)


@mistake("batch_norm", ("values", "arguments"), "normalised over the wrong axis (features, not batch)")
def bn_wrong_axis(x, gamma, beta, eps=1e-5):
    ax = tuple(range(1, x.ndim))
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    return _p(gamma, x) * (x - mean) / np.sqrt(var + eps) + _p(beta, x)


@mistake("batch_norm", ("arguments",), "NCHW normalised over the batch axis only")
def bn_nchw_batch_only(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(0, keepdims=True), x.var(0, keepdims=True)
    return _p(gamma, x) * (x - mean) / np.sqrt(var + eps) + _p(beta, x)


@correct("batch_norm", "one-pass variance E(x²) − E(x)² in float32")
def bn_one_pass_float32(x, gamma, beta, eps=1e-5):
    x32 = np.asarray(x, dtype=np.float32)
    ax = _axes(x32)
    mean = x32.mean(ax, keepdims=True)
    var = (x32 * x32).mean(ax, keepdims=True) - mean * mean
    g, b = _p(gamma, x32).astype(np.float32), _p(beta, x32).astype(np.float32)
    return g * (x32 - mean) / np.sqrt(var + np.float32(eps)) + b


@mistake("batch_norm", ("arguments",), "gamma and beta not reshaped for NCHW: they broadcast onto the last axis")
def bn_gamma_not_reshaped(x, gamma, beta, eps=1e-5):
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


# --- issue 20: answers that passed before the checks tried every layout --------------------

@mistake("batch_norm", ("interface",), "NCHW input normalised in place: the caller's x is overwritten")
def bn_in_place_nchw(x, gamma, beta, eps=1e-5):
    if x.ndim == 4:
        mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
        x -= mean
        x /= np.sqrt(var + eps)
        x *= _p(gamma, x)
        x += _p(beta, x)
        return x
    mean, var = x.mean(0), x.var(0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake("batch_norm", ("interface",), "gamma.shape = (1, -1, 1, 1) reshapes the caller's gamma and beta")
def bn_reshapes_callers_gamma(x, gamma, beta, eps=1e-5):
    if x.ndim == 4:
        gamma.shape = (1, -1, 1, 1)
        beta.shape = (1, -1, 1, 1)
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake("batch_norm", ("interface", "arguments"),
         "x.shape = (N, C, H·W) edits the caller's x, and fails on F-ordered or strided input")
def bn_assigns_x_shape(x, gamma, beta, eps=1e-5):
    if x.ndim == 4:
        n, ch, h, w = x.shape
        x.shape = (n, ch, h * w)
        mean, var = x.mean((0, 2), keepdims=True), x.var((0, 2), keepdims=True)
        y = gamma[None, :, None] * (x - mean) / np.sqrt(var + eps) + beta[None, :, None]
        return y.reshape(n, ch, h, w)
    mean, var = x.mean(0), x.var(0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake("batch_norm", ("arguments",), "unbiased variance (ddof=1) on the NCHW path only")
def bn_unbiased_nchw_only(x, gamma, beta, eps=1e-5):
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, ddof=1 if x.ndim == 4 else 0, keepdims=True)
    return _p(gamma, x) * (x - mean) / np.sqrt(var + eps) + _p(beta, x)


@mistake("batch_norm", ("arguments",), "4-D input refused: only (N, C) supported")
def bn_2d_only(x, gamma, beta, eps=1e-5):
    if x.ndim != 2:
        raise ValueError(f"only (N, C) input is supported; received shape {x.shape}")
    mean, var = x.mean(0), x.var(0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@mistake("batch_norm", ("values", "arguments"), "gamma and beta swapped: beta·x̂ + gamma")
def bn_gamma_beta_swapped(x, gamma, beta, eps=1e-5):
    ax = _axes(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    return _p(beta, x) * (x - mean) / np.sqrt(var + eps) + _p(gamma, x)


@correct("batch_norm", "float32 arithmetic returned as float64 through the float64 gamma")
def bn_float32_float64_out(x, gamma, beta, eps=1e-5):
    x32 = np.asarray(x, dtype=np.float32)
    ax = _axes(x32)
    mean = x32.mean(ax, keepdims=True)
    z = (x32 - mean) / np.sqrt(x32.var(ax, keepdims=True) + np.float32(eps))
    return _p(np.asarray(gamma, dtype=np.float64), x) * z + _p(np.asarray(beta, dtype=np.float64), x)


@correct("batch_norm", "Welford's running mean and variance, one row at a time")
def bn_welford(x, gamma, beta, eps=1e-5):
    flat = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    mean, m2 = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for k, row in enumerate(flat, start=1):
        delta = row - mean
        mean = mean + delta / k
        m2 = m2 + delta * (row - mean)
    var = m2 / len(flat)
    return _p(gamma, x) * (x - _p(mean, x)) / np.sqrt(_p(var, x) + eps) + _p(beta, x)


@correct("batch_norm", "math.fsum per channel, a match statement on x.ndim")
def bn_fsum_match(x, gamma, beta, eps=1e-5):
    import math

    match x.ndim:
        case 2:
            shape = (1, -1)
        case 4:
            shape = (1, -1, 1, 1)
        case _:
            raise ValueError(f"x must be 2-D or 4-D; received shape {x.shape}")
    flat = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    n = len(flat)
    mean = np.array([math.fsum(col) / n for col in flat.T])
    var = np.array([math.fsum((col - m) ** 2) / n for col, m in zip(flat.T, mean)])
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return np.reshape(gamma, shape) * y + np.reshape(beta, shape)


@correct("batch_norm", "np.einsum for the sums, float32 in, float32 out")
def bn_einsum(x, gamma, beta, eps=1e-5):
    flat = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    n = flat.shape[0]
    mean = np.einsum("nc->c", flat) / n
    d = flat - mean
    var = np.einsum("nc,nc->c", d, d) / n
    y = d / np.sqrt(var + eps) * gamma + beta
    out = np.moveaxis(y.reshape(np.moveaxis(x, 1, -1).shape), -1, 1)
    return out.astype(x.dtype, copy=False)
