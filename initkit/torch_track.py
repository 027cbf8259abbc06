"""The PyTorch track: in-place initializers on tensors, drawing only from ``generator``.

Each function mirrors ``torch.nn.init`` (same arguments, same torch layout
``(out, in, *kernel)``, untruncated normals) but is written from the formulas with
``initkit``'s fan and gain helpers. Each fills the tensor under ``torch.no_grad()`` and
returns it.

>>> import torch
>>> w = xavier_uniform_(torch.empty(3, 5), generator=torch.Generator().manual_seed(0))
"""

from __future__ import annotations

import math
import warnings

import torch

from ._validate import real
from .fans import compute_fans
from .kaiming import kaiming_std
from .xavier import xavier_std

__all__ = [
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "trunc_normal_",
    "orthogonal_",
    "default_init_",
    "reset_parameters_",
    "init_weights_torch",
]


def _check_tensor(tensor) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"tensor must be a torch.Tensor; received {type(tensor).__name__}")


def _check_generator(generator) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(
            "generator must be a torch.Generator or None; "
            f"received {type(generator).__name__}"
        )


def _zero_element_no_op(tensor) -> bool:
    """True (after torch's warning) for a tensor with a 0 in its shape: ``kaiming_*_`` and a
    layer's default init leave it as it is, as torch.nn.init does."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def _fill_uniform_(tensor, bound: float, generator):
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def _fill_normal_(tensor, std: float, generator):
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""Fill ``tensor`` from :math:`U(-a, a)`, :math:`a = g\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    Example:
        >>> w = xavier_uniform_(torch.empty(64, 32), gain=5 / 3)
    """
    _check_tensor(tensor), _check_generator(generator)
    bound = math.sqrt(3.0) * xavier_std(tuple(tensor.shape), gain)
    return _fill_uniform_(tensor, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""Fill ``tensor`` from :math:`N(0, \sigma^2)`, :math:`\sigma = g\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Example:
        >>> w = xavier_normal_(torch.empty(64, 32))
    """
    _check_tensor(tensor), _check_generator(generator)
    return _fill_normal_(tensor, xavier_std(tuple(tensor.shape), gain), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""Fill ``tensor`` from :math:`U(-b, b)`, :math:`b = \sqrt3\,g/\sqrt{\text{fan}}`.

    Example:
        >>> w = kaiming_uniform_(torch.empty(64, 32, 3, 3), mode="fan_out", nonlinearity="relu")
    """
    _check_tensor(tensor), _check_generator(generator)
    if _zero_element_no_op(tensor):
        return tensor
    bound = math.sqrt(3.0) * kaiming_std(tuple(tensor.shape), a, mode, nonlinearity)
    return _fill_uniform_(tensor, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""Fill ``tensor`` from :math:`N(0, (g/\sqrt{\text{fan}})^2)`, not truncated.

    Example:
        >>> w = kaiming_normal_(torch.empty(64, 32), nonlinearity="relu")
    """
    _check_tensor(tensor), _check_generator(generator)
    if _zero_element_no_op(tensor):
        return tensor
    std = kaiming_std(tuple(tensor.shape), a, mode, nonlinearity)
    return _fill_normal_(tensor, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    r"""Fill ``tensor`` from :math:`N(\mu, \sigma^2)` restricted to the **absolute** bounds
    :math:`[a, b]`, by inverting the CDF in float64:
    :math:`x = \mu + \sigma\Phi^{-1}(u)`, :math:`u \sim U(\Phi(\tfrac{a-\mu}{\sigma}), \Phi(\tfrac{b-\mu}{\sigma}))`.

    Example:
        >>> w = trunc_normal_(torch.empty(64, 32), std=0.02, a=-0.04, b=0.04)
    """
    _check_tensor(tensor), _check_generator(generator)
    mean, std = real("mean", mean), real("std", std, positive=True)
    a, b = real("a", a), real("b", b)
    if not a < b:
        raise ValueError(f"the bounds must satisfy a < b; received a={a!r}, b={b!r}")
    alpha, beta = (a - mean) / std, (b - mean) / std
    mirrored = alpha > 0  # keep the interval in the left tail, where Φ is precise
    if mirrored:
        alpha, beta = -beta, -alpha
    lo, hi = (torch.special.ndtr(torch.tensor(v, dtype=torch.float64)).item() for v in (alpha, beta))
    if not hi > lo:
        raise ValueError(
            f"[a, b] = [{a!r}, {b!r}] holds no probability under N({mean!r}, {std!r}²)"
        )
    with torch.no_grad():
        u = torch.empty(tensor.shape, dtype=torch.float64).uniform_(lo, hi, generator=generator)
        z = torch.special.ndtri(u).clamp_(alpha, beta)
        if mirrored:
            z = -z
        return tensor.copy_(mean + std * z).clamp_(a, b)


def orthogonal_(tensor, gain=1.0, generator=None):
    r"""Fill ``tensor`` (viewed as ``shape[0] × prod(shape[1:])``) with :math:`g\,Q`, :math:`Q`
    Haar-distributed with orthonormal rows or columns: QR of a Gaussian matrix in its tall
    orientation, columns of :math:`Q` flipped by :math:`\operatorname{sign}(R_{ii})`.

    Example:
        >>> w = orthogonal_(torch.empty(3, 5))
        >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-6)
        True
    """
    _check_tensor(tensor), _check_generator(generator)
    if tensor.dim() < 2:
        raise ValueError(
            f"orthogonal_ needs a tensor with at least 2 dimensions; received shape {tuple(tensor.shape)}"
        )
    gain = real("gain", gain)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    if rows * cols == 0:
        return tensor
    with torch.no_grad():
        tall = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        tall.normal_(0.0, 1.0, generator=generator)
        q, r = torch.linalg.qr(tall)
        q *= torch.where(torch.diagonal(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return tensor.copy_((gain * q).reshape(tensor.shape))


def default_init_(weight, bias=None, generator=None):
    r"""Reproduce PyTorch's default initialization of ``nn.Linear`` and ``nn.ConvNd``.

    torch calls ``kaiming_uniform_(weight, a=√5)``: gain :math:`\sqrt{2/(1+5)} = 1/\sqrt3`,
    so the bound is :math:`\sqrt3 \cdot (1/\sqrt3)/\sqrt{\text{fan\_in}} = 1/\sqrt{\text{fan\_in}}`
    — a plain :math:`U(\pm 1/\sqrt{\text{fan\_in}})`, whose variance :math:`1/(3\,\text{fan\_in})`
    is a third of LeCun's. The bias is drawn directly from the same
    :math:`U(\pm 1/\sqrt{\text{fan\_in}})`.

    Example:
        >>> lin = torch.nn.Linear(20, 10)
        >>> _ = default_init_(lin.weight, lin.bias)
    """
    _check_tensor(weight), _check_generator(generator)
    if 0 in weight.shape:  # torch's kaiming_uniform_ warns here, and fills the bias from U(±0)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
    fan_in, _ = compute_fans(tuple(weight.shape))
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    _fill_uniform_(weight, bound, generator)
    if bias is not None:
        _check_tensor(bias)
        _fill_uniform_(bias, bound, generator)
    return weight


def reset_parameters_(module, generator=None):
    """Re-initialize a ``nn.Linear`` / ``nn.Conv1d/2d/3d`` (or transposed conv) as torch does
    by default, drawing from ``generator``; returns the module.

    Example:
        >>> conv = reset_parameters_(torch.nn.Conv2d(3, 8, 3), torch.Generator().manual_seed(0))
    """
    layers = (torch.nn.Linear, torch.nn.modules.conv._ConvNd)
    if not isinstance(module, layers):
        raise ValueError(
            "reset_parameters_ handles nn.Linear and nn.Conv*/ConvTranspose* layers; "
            f"received {type(module).__name__}"
        )
    default_init_(module.weight, module.bias, generator)
    return module


def init_weights_torch(model):
    r"""Apply the Weight-initialization note's policy to every submodule of ``model``, in place (notebook 08):

    - ``nn.Linear``: Xavier normal weight, :math:`\sigma^2 = 2/(\text{fan\_in}+\text{fan\_out})`; bias 0;
    - ``nn.Conv2d``: He normal weight in mode fan_out, :math:`\sigma^2 = 2/\text{fan\_out}`,
      fan_out = out_channels·k_h·k_w; bias 0 when present;
    - ``nn.BatchNorm1d/2d``: weight 1, bias 0.

    Draws from torch's global generator (untruncated normals, as ``torch.nn.init``).
    ``model.modules()`` recurses into nested containers; ``model.children()`` would not.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8))
        >>> init_weights_torch(net)
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; received {type(model).__name__}")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                fan_in, fan_out = compute_fans(tuple(m.weight.shape))
                m.weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))
            elif isinstance(m, torch.nn.Conv2d):
                _, fan_out = compute_fans(tuple(m.weight.shape))
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.weight.fill_(1.0)
            else:
                continue
            if m.bias is not None:
                m.bias.zero_()
