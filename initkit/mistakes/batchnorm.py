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
