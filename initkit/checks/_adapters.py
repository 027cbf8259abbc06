"""Adapters that let the NumPy-track checks grade the PyTorch and Keras tracks (COURSE.md §5).

``from_torch(fn_)`` turns an in-place initializer ``fn_(tensor, ..., generator=None)`` into
``f(shape, *args, rng=None, **kwargs)`` of the NumPy contract: each call fills a fresh
``torch.empty(shape)`` — created with ``requires_grad=True``, as an ``nn.Parameter`` is, so
filling it outside ``torch.no_grad()`` fails as it would on a real layer — through a
``torch.Generator`` seeded from ``rng``, and returns the values as a NumPy array. Its
``.unseeded(shape, seeds)`` calls ``fn_`` as torch.nn.init's users do, without a generator
after ``torch.manual_seed`` (``_torch_rng.unseeded_runs``: the rng aspect's probe).

``from_keras(cls)`` turns an initializer class into ``f(shape, rng=None, **kwargs)``: each
call builds a fresh ``cls(**kwargs, seed=<int drawn from rng>)`` (``seed=None`` when ``rng``
is None) — a fresh instance because a seeded Keras initializer returns the same values at
every call — and converts its float32 output with ``keras.ops.convert_to_numpy``. Its
shapes are in Keras layout ``(*kernel, in, out)``; the callable says so in ``.layout``.

>>> import torch
>>> def xavier_uniform_(tensor, gain=1.0, generator=None):
...     a = gain * (6.0 / sum(tensor.shape)) ** 0.5
...     with torch.no_grad():
...         return tensor.uniform_(-a, a, generator=generator)
>>> f = from_torch(xavier_uniform_)
>>> f((3, 4), rng=np.random.default_rng(0)).shape
(3, 4)
"""

from __future__ import annotations

import inspect

import numpy as np

from ._engine import CheckFailed, describe_call


def _seed_from(rng, high: int) -> int | None:
    if rng is None:
        return None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None; received {type(rng).__name__}")
    return int(rng.integers(high))


def from_torch(fn_):
    """Grade a PyTorch-track function ``fn_(tensor, *args, generator=None, **kwargs)`` with
    the NumPy check of the same name: ``check_xavier_uniform(from_torch(xavier_uniform_))``."""
    if hasattr(fn_, "through_adapter"):  # the grader's stand-in: the adapter is built in the kernel
        return fn_.through_adapter("torch")
    if not callable(fn_) or inspect.isclass(fn_):
        raise TypeError(f"from_torch expects your in-place function (e.g. xavier_uniform_); received {fn_!r}")
    name = getattr(fn_, "__name__", "your function")

    def numpy_contract(shape, *args, rng=None, **kwargs):
        import torch

        seed = _seed_from(rng, 2**63 - 1)
        generator = torch.Generator()
        generator.manual_seed(seed if seed is not None else int(np.random.default_rng().integers(2**63 - 1)))
        tensor = torch.empty(tuple(shape), dtype=torch.float32, requires_grad=True)
        out = fn_(tensor, *args, generator=generator, **kwargs)
        if out is None:
            raise CheckFailed(f"{describe(shape, args, kwargs)} returned None: fill the tensor in place and `return tensor`.")
        if out is not tensor:
            raise CheckFailed(
                f"{describe(shape, args, kwargs)} returned a different {type(out).__name__}, not the tensor it was given: "
                "fill `tensor` in place (tensor.uniform_(...), tensor.copy_(...)) and return it."
            )
        return tensor.detach().numpy().copy()

    def unseeded(shape, seeds):  # the rng aspect's probe of the unseeded path (_torch_rng)
        from ._torch_rng import unseeded_runs

        return unseeded_runs(fn_, shape, seeds)

    describe = _describe_torch(name)
    numpy_contract.__name__ = name
    numpy_contract.track, numpy_contract.layout, numpy_contract.student_function = "torch", "torch", fn_
    numpy_contract.unseeded = unseeded
    numpy_contract.describe = lambda args, kwargs: describe(args[0], args[1:], kwargs)
    return numpy_contract


def _describe_torch(name: str):
    def describe(shape, args, kwargs):
        shown = {k: v for k, v in kwargs.items() if k != "rng"}
        # the tensor as the adapter makes it: requires_grad=True, so the printed call reproduces
        # what happened (filling it outside torch.no_grad() raises, as on an nn.Parameter)
        return describe_call(name, (_Shown(f"torch.empty({tuple(shape)!r}, requires_grad=True)"), *args),
                             {**shown, "generator": _Shown("generator")})
    return describe


def _describe_keras(name: str):
    def describe(args, kwargs):
        shown = {k: v for k, v in kwargs.items() if k != "rng"}
        seed = _Shown("seed" if kwargs.get("rng") is not None else "None")
        return f"{describe_call(name, (), {**shown, 'seed': seed})}({args[0] if args else ''!r})"
    return describe


def describer(track: str, name: str):
    """How an adapted call is shown in messages, ``describe(args, kwargs)``, for a track's
    function called ``name`` (the grader builds it from the name alone)."""
    if track == "torch":
        describe = _describe_torch(name)
        return lambda args, kwargs: describe(args[0], args[1:], kwargs)
    return _describe_keras(name)


def from_keras(cls):
    """Grade a Keras-track initializer class: ``check_variance_scaling(from_keras(VarianceScaling))``,
    a preset with ``fixed=`` its configuration, ``check_orthogonal(from_keras(Orthogonal))``."""
    if hasattr(cls, "through_adapter"):  # the grader's stand-in: the adapter is built in the kernel
        return cls.through_adapter("keras")
    if not inspect.isclass(cls):
        raise TypeError(f"from_keras expects your initializer class (e.g. VarianceScaling); received {cls!r}")

    def numpy_contract(shape, rng=None, **kwargs):
        import keras

        initializer = cls(**kwargs, seed=_seed_from(rng, 2**31 - 1))
        values = initializer(tuple(shape), dtype="float32")
        try:
            return np.asarray(keras.ops.convert_to_numpy(values))
        except Exception:
            raise CheckFailed(
                f"{cls.__name__}(...)({tuple(shape)!r}) returned a {type(values).__name__}; "
                "return a tensor from keras.random / keras.ops."
            ) from None

    numpy_contract.__name__ = cls.__name__
    numpy_contract.track, numpy_contract.layout, numpy_contract.student_function = "keras", "keras", cls
    numpy_contract.describe = _describe_keras(cls.__name__)
    numpy_contract.extra_interface = lambda: _keras_config_round_trip(cls)
    return numpy_contract


def _keras_config_round_trip(cls) -> str:
    """get_config() must give a dict that from_config() turns into an equal initializer."""
    shape = (6, 4)
    first = cls(seed=7)
    config = first.get_config()
    if not isinstance(config, dict):
        raise CheckFailed(f"{cls.__name__}(seed=7).get_config() returned {type(config).__name__}; expected a dict.")
    try:
        again = cls.from_config(config)
    except Exception as exc:
        raise CheckFailed(
            f"{cls.__name__}.from_config({config!r}) raised {type(exc).__name__}: {exc} — get_config() "
            "must return exactly the arguments __init__ accepts (a preset returns only its seed)."
        ) from None
    import keras

    a, b = (keras.ops.convert_to_numpy(init(shape, dtype="float32")) for init in (first, again))
    if not np.array_equal(a, keras.ops.convert_to_numpy(cls(seed=7)(shape, dtype="float32"))):
        raise CheckFailed(  # the draw ignores the seed: a config cannot fix that
            f"two {cls.__name__}(seed=7) instances give different values on {shape}: draw with the seed, "
            f"e.g. keras.random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)."
        )
    if not np.array_equal(a, b):
        raise CheckFailed(
            f"{cls.__name__}.from_config(get_config()) gives other values than the original on "
            f"{shape}: get_config() must include every argument, seed too ({config!r})."
        )
    return "get_config round trip"


class _Shown:
    """A value shown verbatim in a call description."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
