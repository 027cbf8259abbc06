"""Argument checks shared by the reference functions.

Every check raises ``ValueError`` naming the received value and the rule it broke, so a
student sees ``shape must be a sequence of non-negative ints; received (3, -1)`` instead of
a traceback from deep inside NumPy.
"""

from __future__ import annotations

import numbers
from typing import Iterable

import numpy as np


def as_shape(shape, *, min_dims: int = 0, name: str = "shape") -> tuple[int, ...]:
    """Return ``shape`` as a tuple of Python ints, or raise ``ValueError``."""
    if isinstance(shape, (numbers.Integral,)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(
            f"{name} must be a sequence of non-negative ints; received {shape!r}"
        ) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise ValueError(
                f"{name} must be a sequence of non-negative ints; received {shape!r}"
            )
    if len(dims) < min_dims:
        raise ValueError(
            f"{name} must have at least {min_dims} dimensions; received {dims!r} "
            f"with {len(dims)}"
        )
    return tuple(int(d) for d in dims)


def as_rng(rng) -> np.random.Generator:
    """``rng`` itself when it is a ``numpy.random.Generator``; a fresh one when ``None``."""
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)) or None; "
            f"received {type(rng).__name__}"
        )
    return rng


def one_of(name: str, value, options: Iterable[str]) -> str:
    """Return ``value`` when it is one of ``options``; raise ``ValueError`` otherwise."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"
        raise ValueError(f"{name} must be {listed}; received {value!r}")
    return value


def real(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite float, enforcing the sign rule asked for."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; received {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0; received {value!r}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0; received {value!r}")
    return float(value)
