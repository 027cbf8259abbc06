"""PyTorch-track entries: in-place ``fn_(tensor, ..., generator=None)``, graded through
``initkit.checks.from_torch``. Importing this module imports torch and registers them."""

import math

import torch

from . import correct, mistake


def _fans(tensor):
    rf = math.prod(tensor.shape[2:])
    return tensor.shape[1] * rf, tensor.shape[0] * rf


def _gain(nonlinearity, a):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if a is None else a
        return math.sqrt(2.0 / (1 + slope**2))
    table = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3, "selu": 0.75}
    if nonlinearity in table:
        return table[nonlinearity]
    if nonlinearity in ("linear", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out'; received {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return _gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _fill_orthogonal_(tensor, gain, generator, sign_fix=True):
    if tensor.ndim < 2:
        raise ValueError("orthogonal_ needs a tensor with at least 2 dimensions")
    rows, cols = tensor.shape[0], tensor.numel() // tensor.shape[0]
    flat = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    q, r = torch.linalg.qr(flat)
    if sign_fix:
        q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.T
    with torch.no_grad():
        tensor.copy_(q.reshape(tensor.shape) * gain)
    return tensor


# --- correct, written differently -------------------------------------------------------

@correct("xavier_normal", "randn from the generator, scaled and copied in", track="torch")
def xn_copy(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * std)
    return tensor


@correct("kaiming_uniform", "rand in [0, 1) mapped to [-b, b)", track="torch")
def ku_from_rand(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        tensor.copy_((2 * torch.rand(tensor.shape, generator=generator) - 1) * bound)
    return tensor


# --- mistakes ---------------------------------------------------------------------------

@mistake("xavier_uniform", ("rng",), "draws from torch's global generator, ignoring `generator`",
         track="torch")
def ignores_generator(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-a, a)


@mistake("xavier_uniform", ("interface", "scale", "distribution", "arguments", "rng"),
         "fills the tensor outside torch.no_grad()", track="torch")
def no_no_grad(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return tensor.uniform_(-a, a, generator=generator)


@mistake("xavier_normal", ("interface", "scale", "distribution", "arguments", "rng"),
         "returns a new tensor instead of filling the one given", track="torch")
def returns_new_tensor(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.randn(tensor.shape, generator=generator) * std


@mistake("xavier_normal", ("scale", "distribution", "arguments"),
         "Keras' truncated normal (cut at ±2σ, no correction) where torch's is untruncated",
         track="torch")
def truncated_like_keras(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return torch.nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator=generator)


@mistake("kaiming_uniform", ("scale", "arguments"), "fan_in read from tensor.shape[0] (fans swapped)",
         track="torch")
def fans_swapped(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out'; received {mode!r}")
    fan_out, fan_in = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * _gain(nonlinearity, a) / math.sqrt(fan)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@mistake("kaiming_uniform", ("scale", "distribution", "arguments", "rng"),
         "torch.manual_seed(0) inside the function", track="torch")
def seeds_inside(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    torch.manual_seed(0)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


@mistake("kaiming_normal", ("arguments",), "mode ignored: always fan_in", track="torch")
def mode_ignored(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out'; received {mode!r}")
    std = _kaiming_std(tensor, a, "fan_in", nonlinearity)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


@mistake("truncated_normal", ("distribution", "arguments"),
         "a and b taken in units of std around the mean (Keras style), not as absolute bounds",
         track="torch")
def relative_bounds(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    lo, hi = mean + a * std, mean + b * std
    u_lo, u_hi = (0.5 * (1 + math.erf((v - mean) / (std * math.sqrt(2)))) for v in (lo, hi))
    with torch.no_grad():
        tensor.uniform_(2 * u_lo - 1, 2 * u_hi - 1, generator=generator)
        tensor.erfinv_().mul_(std * math.sqrt(2.0)).add_(mean)
        return tensor.clamp_(lo, hi)


@mistake("truncated_normal", ("scale", "distribution", "arguments"),
         "normal_ then clamp_: clipping piles mass on a and b instead of resampling", track="torch")
def clamps(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator).clamp_(a, b)


@mistake("orthogonal", ("distribution",), "Q from torch.linalg.qr without the sign(diag R) fix",
         track="torch")
def no_sign_fix(tensor, gain=1.0, generator=None):
    return _fill_orthogonal_(tensor, gain, generator, sign_fix=False)


@mistake("orthogonal", ("arguments",), "gain ignored", track="torch")
def gain_ignored(tensor, gain=1.0, generator=None):
    return _fill_orthogonal_(tensor, 1.0, generator)


# --- the unseeded path: how torch.nn.init's users call it (no generator) ----------------------

@correct("kaiming_uniform", "generator=None passed explicitly through to tensor.uniform_", track="torch")
def ku_none_passed_through(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        if generator is None:
            return tensor.uniform_(-bound, bound, generator=None)
        return tensor.uniform_(-bound, bound, generator=generator)


@correct("xavier_uniform", "falls back to torch.default_generator when no generator is given", track="torch")
def xu_default_generator(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    generator = generator if generator is not None else torch.default_generator
    with torch.no_grad():
        return tensor.uniform_(-a, a, generator=generator)


@correct("kaiming_normal", "torch.randn with the generator keyword, copied in", track="torch")
def kn_randn_copy(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape, generator=generator) * std)
    return tensor


@mistake("kaiming_uniform", ("rng",),
         "`generator = generator or torch.Generator().manual_seed(1234)`: every unseeded layer gets the "
         "same weights", track="torch")
def private_seeded_default(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    generator = generator or torch.Generator().manual_seed(1234)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


@mistake("kaiming_uniform", ("rng",),
         "reads generator.device: crashes when called without a generator, as nn.Linear does", track="torch")
def crashes_without_generator(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    u = torch.rand(tensor.shape, generator=generator, device=generator.device)
    with torch.no_grad():
        return tensor.copy_((2 * u - 1) * bound)


@mistake("xavier_uniform", ("rng",),
         "`generator = generator or torch.Generator()`: an unseeded Generator always starts alike",
         track="torch")
def fresh_unseeded_generator(tensor, gain=1.0, generator=None):
    generator = generator or torch.Generator()
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-a, a, generator=generator)


@mistake("xavier_normal", ("rng",),
         "a generator of its own, made once (a default argument): torch.manual_seed does not decide the "
         "unseeded draw", track="torch")
def generator_made_once(tensor, gain=1.0, generator=None, _own=torch.Generator().manual_seed(0)):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator if generator is not None else _own)


@mistake("kaiming_normal", ("rng",),
         "calls torch.manual_seed(0) when no generator is given", track="torch")
def reseeds_when_unseeded(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if generator is None:
        torch.manual_seed(0)
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)
