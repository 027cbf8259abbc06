"""The Keras track: ``VarianceScaling`` and its presets, and ``Orthogonal``, as Keras initializers.

Keras semantics: shapes in Keras' layout ``(*kernel, in, out)``, "truncated_normal" cut at
±2σ by resampling with σ corrected by 0.87962566103423978, and seeding as in Keras 3 — an
initializer built with an int seed (or none: then a random int is picked once) returns the
same values at every call; pass a ``keras.random.SeedGenerator`` for fresh values per call.
Every public class is registered for Keras serialization (package "initkit"): a model built
with them saves and loads as one built with Keras' own.

>>> init = HeNormal(seed=0)
>>> w = init((3, 3, 16, 32))
"""

from __future__ import annotations

import math
import os
import random as _py_random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ banner would land on stderr

import keras  # noqa: E402

from ._validate import as_shape, one_of, real  # noqa: E402
from .variance_scaling import VS_DISTRIBUTIONS, VS_MODES, TRUNCATED_STD_2SIGMA, variance_scaling_variance  # noqa: E402

__all__ = [
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunNormal",
    "Orthogonal",
    "init_weights_keras",
]


def _resolve_seed(seed):
    """An int or ``SeedGenerator`` seed as given; ``None`` becomes a random int, as in Keras."""
    if seed is None:
        return _py_random.SystemRandom().randrange(1, 2**31 - 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, keras.random.SeedGenerator)):
        raise ValueError(
            "seed must be an int, a keras.random.SeedGenerator or None; "
            f"received {seed!r}"
        )
    return seed


#: Registers a class for Keras serialization under "initkit>ClassName", so a model built with
#: it can be saved (``model.save``) and loaded (``keras.models.load_model``) without
#: ``custom_objects`` — importing initkit.keras_track is enough.
_serializable = keras.saving.register_keras_serializable(package="initkit")


class _SeededInitializer(keras.initializers.Initializer):
    def __init__(self, seed=None):
        self._init_seed = seed
        self.seed = _resolve_seed(seed)

    def get_config(self):
        seed = self._init_seed
        return {"seed": seed if not isinstance(seed, keras.random.SeedGenerator) else None}


@_serializable
class VarianceScaling(_SeededInitializer):
    r"""Weights of variance :math:`s = \text{scale}/\max(1, n)`, :math:`n` = fan_in, fan_out
    or their mean (``mode``), from a ``distribution``:

    - ``"truncated_normal"``: :math:`N(0, \sigma^2)` cut at :math:`\pm2\sigma`,
      :math:`\sigma = \sqrt s/0.87962566103423978` (variance exactly :math:`s`);
    - ``"untruncated_normal"``: :math:`N(0, s)`;  ``"uniform"``: :math:`U(\pm\sqrt{3s})`.

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=1)
        >>> tuple(init((4, 8)).shape)
        (4, 8)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = real("scale", scale, positive=True)
        self.mode = one_of("mode", mode, VS_MODES)
        if distribution == "normal":  # Keras' and tf.compat.v1's old alias
            distribution = "truncated_normal"
        self.distribution = one_of("distribution", distribution, VS_DISTRIBUTIONS)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        s = variance_scaling_variance(as_shape(shape), self.scale, self.mode)
        shape = tuple(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * s)
            return keras.random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return keras.random.normal(shape, 0.0, math.sqrt(s), dtype=dtype, seed=self.seed)
        sigma = math.sqrt(s) / TRUNCATED_STD_2SIGMA
        return keras.random.truncated_normal(shape, 0.0, sigma, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
        }


class _Preset(VarianceScaling):
    """A ``VarianceScaling`` whose scale, mode and distribution are fixed by the class."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed=None):
        super().__init__(self.SCALE, self.MODE, self.DISTRIBUTION, seed)

    def get_config(self):
        return {"seed": super().get_config()["seed"]}


@_serializable
class GlorotUniform(_Preset):
    r""":math:`U(\pm\sqrt{6/(\text{fan\_in}+\text{fan\_out})})`: scale 1, fan_avg, uniform."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "uniform"


@_serializable
class GlorotNormal(_Preset):
    r"""Truncated normal of variance :math:`2/(\text{fan\_in}+\text{fan\_out})`: scale 1, fan_avg."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


@_serializable
class HeUniform(_Preset):
    r""":math:`U(\pm\sqrt{6/\text{fan\_in}})`: scale 2, fan_in, uniform."""

    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "uniform"


@_serializable
class HeNormal(_Preset):
    r"""Truncated normal of variance :math:`2/\text{fan\_in}`: scale 2, fan_in."""

    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


@_serializable
class LecunNormal(_Preset):
    r"""Truncated normal of variance :math:`1/\text{fan\_in}`: scale 1, fan_in."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


@_serializable
class Orthogonal(_SeededInitializer):
    r""":math:`g\,Q` in Keras' layout: rows = prod(shape[:-1]), cols = shape[-1]; :math:`Q`
    Haar-distributed (QR of a Gaussian matrix in its tall orientation, sign fix).

    Example:
        >>> w = keras.ops.convert_to_numpy(Orthogonal(gain=2.0, seed=0)((6, 4)))
        >>> bool(abs(w.T @ w - 4 * __import__("numpy").eye(4)).max() < 1e-5)
        True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = real("gain", gain)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        dims = as_shape(shape, min_dims=2)
        rows, cols = math.prod(dims[:-1]), dims[-1]
        tall = keras.random.normal((max(rows, cols), min(rows, cols)), dtype=dtype, seed=self.seed)
        q, r = keras.ops.qr(tall)
        signs = keras.ops.where(keras.ops.diagonal(r) < 0, -1.0, 1.0)
        q = q * keras.ops.cast(signs, q.dtype)
        if rows < cols:
            q = keras.ops.transpose(q)
        return self.gain * keras.ops.reshape(q, dims)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


def init_weights_keras(model, seed):
    r"""Apply the Weight-initialization note's policy to every layer of a built Keras ``model``, in place (notebook 08):

    - ``Dense``: ``GlorotNormal`` kernel (truncated normal of variance :math:`2/(\text{fan\_in}+\text{fan\_out})`); bias 0;
    - ``Conv2D``: ``VarianceScaling(2.0, "fan_out", "truncated_normal")`` kernel; bias 0 when present;
    - ``BatchNormalization``: gamma 1, beta 0.

    Layer ``i`` draws with seed ``seed + i``: the same ``seed`` repeats the weights, and two
    layers of the same shape still differ.

    Example:
        >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> init_weights_keras(net, seed=0)
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int; received {seed!r}")
    for i, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.Dense):
            kernel = GlorotNormal(seed=seed + i)
        elif isinstance(layer, keras.layers.Conv2D):
            kernel = VarianceScaling(2.0, "fan_out", "truncated_normal", seed=seed + i)
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.gamma.assign(keras.ops.ones(layer.gamma.shape))
            layer.beta.assign(keras.ops.zeros(layer.beta.shape))
            continue
        else:
            continue
        layer.kernel.assign(kernel(layer.kernel.shape))
        if layer.bias is not None:
            layer.bias.assign(keras.ops.zeros(layer.bias.shape))
