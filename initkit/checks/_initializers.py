"""Specs of the random-initializer checks: which law each call must follow, and which shapes
and arguments a given ``seed`` tries.

Shapes are drawn from ranges chosen so that every catalogued mistake is large: fan_in and
fan_out differ by a factor ≥ 2 (swapped or ignored fans change the variance by ≥ 1.5×), conv
kernels have a receptive field ≥ 9, gains and slopes are far from 1 (3, 0.5, slope 1 and 3).

The laws take their fans, gains and truncation constant from ``_tables``, not from the
library functions they grade, so a library bug cannot move the target.
"""

from __future__ import annotations

import math

from . import _laws
from ._tables import KERAS_TRUNCATED_STD, fans, gain
from ._engine import Context
from ._random import Case, RandomSpec


def _dims(ctx: Context, stream: int) -> tuple[int, int, int]:
    """(out, in, k): out in [24, 64), in = out·{2, 3} + [1, 8), k in {3, 5}."""
    r = ctx.rng(100 + stream)
    out = int(r.integers(24, 64))
    inp = out * int(r.choice([2, 3])) + int(r.integers(1, 8))
    return out, inp, int(r.choice([3, 5]))


def _torch_scale_shapes(ctx: Context) -> list:
    out, inp, _ = _dims(ctx, 0)
    return [(out, inp), (inp, out)]


# --- Xavier -----------------------------------------------------------------------------

def _xavier_std(shape, gain=1.0):
    fan_in, fan_out = fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def _xavier_argument_cases(ctx: Context) -> list:
    out, inp, k = _dims(ctx, 1)
    return [
        Case((out, inp // 4, k, k)),            # receptive field matters
        Case((inp, out), {"gain": 3.0}),          # gain: squared ⇒ 9, under the root ⇒ √3
        Case((out, inp), {"gain": 0.5}),
        Case((out // 2, out, k), {"gain": 5 / 3}),
    ]


XAVIER_UNIFORM = RandomSpec(
    "xavier_uniform",
    law=lambda shape, gain=1.0: _laws.uniform(math.sqrt(3.0) * _xavier_std(shape, gain)),
    scale_shapes=_torch_scale_shapes,
    argument_cases=_xavier_argument_cases,
)

XAVIER_NORMAL = RandomSpec(
    "xavier_normal",
    law=lambda shape, gain=1.0: _laws.normal(_xavier_std(shape, gain)),
    scale_shapes=_torch_scale_shapes,
    argument_cases=_xavier_argument_cases,
)


# --- Kaiming ----------------------------------------------------------------------------

def _kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan_in, fan_out = fans(shape)
    return gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _kaiming_argument_cases(ctx: Context) -> list:
    out, inp, k = _dims(ctx, 2)
    return [
        Case((out, inp), {"mode": "fan_out"}),
        Case((inp, out // 2, k, k), {"mode": "fan_out", "nonlinearity": "relu"}),
        Case((out, inp, k), {"nonlinearity": "relu"}),
        Case((out, inp), {"a": 1.0}),                     # slope 1 ⇒ gain 1
        Case((inp, out), {"a": 3}),                       # slope 3 ⇒ gain √0.2, int accepted
        Case((out, inp), {"nonlinearity": "tanh"}),
        Case((out, inp), {"nonlinearity": "linear", "a": 3.0}),  # a ignored off leaky_relu
        Case((inp, out), {"nonlinearity": "selu", "mode": "fan_out"}),
    ]


_KAIMING_ERRORS = (
    ({"mode": "fan_avg"}, "Kaiming's mode is 'fan_in' or 'fan_out'"),
    ({"mode": "fanin"}, "Kaiming's mode is 'fan_in' or 'fan_out'"),
    ({"nonlinearity": "gelu"}, "'gelu' is not in calculate_gain's table"),
)

KAIMING_UNIFORM = RandomSpec(
    "kaiming_uniform",
    law=lambda shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu":
        _laws.uniform(math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)),
    scale_shapes=_torch_scale_shapes,
    argument_cases=_kaiming_argument_cases,
    error_cases=_KAIMING_ERRORS,
)

KAIMING_NORMAL = RandomSpec(
    "kaiming_normal",
    law=lambda shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu":
        _laws.normal(_kaiming_std(shape, a, mode, nonlinearity)),
    scale_shapes=_torch_scale_shapes,
    argument_cases=_kaiming_argument_cases,
    error_cases=_KAIMING_ERRORS,
)


# --- truncated normal -------------------------------------------------------------------

def _truncated_law(shape, mean=0.0, std=1.0, a=-2.0, b=2.0):
    return _laws.truncated_normal(mean, std, a, b)


def _truncated_scale_shapes(ctx: Context) -> list:
    out, inp, _ = _dims(ctx, 3)
    return [(out, inp), (inp * 2,)]


def _truncated_argument_cases(ctx: Context) -> list:
    out, inp, _ = _dims(ctx, 4)
    return [
        Case((out, inp), {"mean": 1.0, "std": 2.0, "a": -1.0, "b": 4.0}),  # absolute bounds
        Case((inp, out), {"mean": -0.5, "std": 0.5, "a": -1.0, "b": 1.0}),
        Case((out, inp), {"std": 3.0}),                                     # std ≠ 1, a, b default
        Case((inp,), {"mean": 2.0, "std": 1.0, "a": 0.0, "b": 2.5}),
    ]


def _truncated_distribution_cases(ctx: Context) -> list:
    out, inp, _ = _dims(ctx, 3)
    return [Case((out, inp)), Case((inp, out), {"mean": 1.0, "std": 2.0, "a": -1.0, "b": 4.0})]


TRUNCATED_NORMAL = RandomSpec(
    "truncated_normal",
    law=_truncated_law,
    scale_shapes=_truncated_scale_shapes,
    argument_cases=_truncated_argument_cases,
    distribution_cases=_truncated_distribution_cases,
    interface_shapes=((4, 3), (7,), (2, 3, 4)),
)


# --- variance scaling (Keras layout) ----------------------------------------------------

def _vs_law(shape, scale=1.0, mode="fan_in", distribution="truncated_normal"):
    fan_in, fan_out = fans(shape, layout="keras")
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    s = scale / max(1.0, n)
    if distribution == "uniform":
        return _laws.uniform(math.sqrt(3 * s))
    if distribution == "untruncated_normal":
        return _laws.normal(math.sqrt(s))
    sigma = math.sqrt(s) / KERAS_TRUNCATED_STD
    return _laws.truncated_normal(0.0, sigma, -2 * sigma, 2 * sigma)


def _keras_scale_shapes(ctx: Context) -> list:
    out, inp, _ = _dims(ctx, 5)
    return [(inp, out), (out, inp)]  # keras layout: (in, out)


def _vs_argument_cases(ctx: Context) -> list:
    out, inp, k = _dims(ctx, 6)
    modes, dists = ("fan_in", "fan_out", "fan_avg"), ("truncated_normal", "untruncated_normal", "uniform")
    shapes = [(inp, out), (k, k, out, inp), (out, inp)]
    scales = [2.0, 0.5, 3.0]
    return [Case(shapes[(i + j) % 3], {"scale": scales[j], "mode": m, "distribution": d})
            for i, m in enumerate(modes) for j, d in enumerate(dists)]


VARIANCE_SCALING = RandomSpec(
    "variance_scaling",
    law=_vs_law,
    scale_shapes=_keras_scale_shapes,
    argument_cases=_vs_argument_cases,
    interface_shapes=((4, 3), (3, 3, 6, 5)),
    layout="keras",
    error_cases=(
        ({"mode": "fan_mean"}, "mode is 'fan_in', 'fan_out' or 'fan_avg'"),
        ({"distribution": "gaussian"}, "distribution is 'truncated_normal', 'untruncated_normal' or 'uniform'"),
        ({"scale": 0.0}, "scale must be > 0"),
        ({"scale": -2.0}, "scale must be > 0"),
    ),
)
