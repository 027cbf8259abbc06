"""Batch normalization in NumPy (notebook 07): training mode, running statistics, inference."""

from __future__ import annotations

import numpy as np

from ._validate import real


def _channel_axes(x: np.ndarray, **per_channel) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Axes to reduce over and the broadcast shape of the per-channel arrays named in
    ``per_channel``, whose shapes are checked to be ``(C,)``."""
    if x.ndim == 2:
        axes, param_shape = (0,), (1, x.shape[1])
    elif x.ndim == 4:
        axes, param_shape = (0, 2, 3), (1, x.shape[1], 1, 1)
    else:
        raise ValueError(
            "x must be 2-D (N, C) or 4-D (N, C, H, W); "
            f"received an array of shape {x.shape}"
        )
    channels = x.shape[1]
    for name, p in per_channel.items():
        if np.shape(p) != (channels,):
            raise ValueError(
                f"{name} must have shape ({channels},), one value per channel of x; "
                f"received shape {np.shape(p)}"
            )
    return axes, param_shape


def _as_float_array(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric array; received dtype {x.dtype}")
    return x.astype(np.float64)


def _out_dtype(x) -> np.dtype:
    dtype = np.asarray(x).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def batch_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    r"""Training-mode batch normalization.

    .. math:: y = \gamma\,\frac{x - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}} + \beta

    with the batch mean :math:`\mu_B` and the **biased** batch variance :math:`\sigma_B^2`
    per channel: over axis 0 of a 2-D ``(N, C)`` input, over axes (0, 2, 3) of a 4-D NCHW
    input. ``eps`` sits *inside* the square root. Computed in float64; the result has x's
    floating dtype.

    Example:
        >>> x = np.array([[1.0, 2.0], [3.0, 6.0]])
        >>> batch_norm(x, np.ones(2), np.zeros(2), eps=0.0)
        array([[-1., -1.],
               [ 1.,  1.]])
    """
    eps = real("eps", eps, nonnegative=True)
    xf = _as_float_array("x", x)
    axes, pshape = _channel_axes(xf, gamma=gamma, beta=beta)
    mean = xf.mean(axis=axes, keepdims=True)
    var = xf.var(axis=axes, keepdims=True)  # biased: divides by N
    g = _as_float_array("gamma", gamma).reshape(pshape)
    b = _as_float_array("beta", beta).reshape(pshape)
    y = g * (xf - mean) / np.sqrt(var + eps) + b
    return y.astype(_out_dtype(x))


def update_running_stats(x, running_mean, running_var, momentum=0.1):
    r"""Return the running mean and variance after one training batch, PyTorch's convention.

    .. math:: \hat\mu \leftarrow (1-m)\,\hat\mu + m\,\mu_B, \qquad
              \hat\sigma^2 \leftarrow (1-m)\,\hat\sigma^2 + m\,\tfrac{n}{n-1}\sigma_B^2

    ``momentum`` :math:`m` weighs the *new* batch (torch's 0.1 ≙ Keras' ``momentum=0.9``,
    which weighs the old average), and the batch variance is **unbiased** (:math:`n` values
    per channel), unlike the biased one used to normalize.

    Example:
        >>> x = np.array([[0.0], [2.0]])
        >>> update_running_stats(x, np.zeros(1), np.ones(1))
        (array([0.1]), array([1.1]))
    """
    momentum = real("momentum", momentum, nonnegative=True)
    if momentum > 1:
        raise ValueError(f"momentum must be in [0, 1]; received {momentum!r}")
    xf = _as_float_array("x", x)
    axes, _ = _channel_axes(xf, running_mean=running_mean, running_var=running_var)
    n = xf.size // xf.shape[1]
    if n < 2:
        raise ValueError(
            "the unbiased batch variance needs at least 2 values per channel; "
            f"received x of shape {xf.shape}"
        )
    batch_mean = xf.mean(axis=axes)
    batch_var = xf.var(axis=axes, ddof=1)
    new_mean = (1 - momentum) * np.asarray(running_mean, float) + momentum * batch_mean
    new_var = (1 - momentum) * np.asarray(running_var, float) + momentum * batch_var
    return new_mean, new_var


def batch_norm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5) -> np.ndarray:
    r"""Inference-mode batch normalization: the batch statistics are replaced by running ones.

    .. math:: y = \gamma\,\frac{x - \hat\mu}{\sqrt{\hat\sigma^2 + \varepsilon}} + \beta

    Example:
        >>> batch_norm_inference(np.array([[2.0]]), np.ones(1), np.zeros(1),
        ...                      np.array([1.0]), np.array([4.0]), eps=0.0)
        array([[0.5]])
    """
    eps = real("eps", eps, nonnegative=True)
    xf = _as_float_array("x", x)
    _, pshape = _channel_axes(
        xf, gamma=gamma, beta=beta, running_mean=running_mean, running_var=running_var
    )
    mean = _as_float_array("running_mean", running_mean).reshape(pshape)
    var = _as_float_array("running_var", running_var).reshape(pshape)
    g = _as_float_array("gamma", gamma).reshape(pshape)
    b = _as_float_array("beta", beta).reshape(pshape)
    y = g * (xf - mean) / np.sqrt(var + eps) + b
    return y.astype(_out_dtype(x))
