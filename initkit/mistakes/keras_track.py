"""Keras-track entries: initializer classes in Keras layout ``(*kernel, in, out)``, graded
through ``initkit.checks.from_keras``. Importing this module imports Keras and registers them.

Presets are graded with ``fixed=`` their configuration; ``PRESETS`` lists them.
"""

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from . import correct, mistake  # noqa: E402

PRESETS = {
    "GlorotUniform": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"},
    "GlorotNormal": {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"},
    "HeUniform": {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"},
    "HeNormal": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"},
    "LecunNormal": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
}
TRUNCATION_STD = 0.87962566103423978  # std of N(0, 1) cut at ±2


def _keras_fans(shape):
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _validate(scale, mode, distribution):
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg'; received {mode!r}")
    if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
        raise ValueError(f"unknown distribution {distribution!r}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0; received {scale!r}")


class _Base(keras.initializers.Initializer):
    """What every class below shares: the arguments, their validation and get_config."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        _validate(scale, mode, distribution)
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}

    def variance(self, shape, fan_in=None, fan_out=None):
        if fan_in is None:
            fan_in, fan_out = _keras_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / max(1.0, n)

    def draw(self, shape, dtype, s):
        if self.distribution == "uniform":
            limit = math.sqrt(3 * s)
            return keras.random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return keras.random.normal(shape, 0.0, math.sqrt(s), dtype=dtype, seed=self.seed)
        return keras.random.truncated_normal(shape, 0.0, math.sqrt(s) / TRUNCATION_STD, dtype=dtype, seed=self.seed)

    def __call__(self, shape, dtype=None):
        return self.draw(shape, dtype, self.variance(shape))


def _preset(base, name):
    """A preset of ``base`` with PRESETS[name] fixed, as keras.initializers defines them."""
    config = PRESETS[name]

    def __init__(self, seed=None):
        base.__init__(self, seed=seed, **config)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (base,), {"__init__": __init__, "get_config": get_config})


# --- correct, written differently -------------------------------------------------------

@correct("variance_scaling", "uniform via keras.random.uniform in [0, 1), rescaled", track="keras")
class VarianceScaling__rescaled_uniform(_Base):
    def __call__(self, shape, dtype=None):
        s = self.variance(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * s)
            return (keras.random.uniform(shape, dtype=dtype, seed=self.seed) * 2 - 1) * limit
        return self.draw(shape, dtype, s)


@correct("variance_scaling", "HeNormal as a thin preset subclass", track="keras", fixed=PRESETS["HeNormal"])
class HeNormal__preset(_preset(_Base, "HeNormal")):
    pass


# --- mistakes ---------------------------------------------------------------------------

@mistake("variance_scaling", ("scale", "arguments"),
         "fan_in read from shape[0] (torch layout) on a Keras (*kernel, in, out) shape", track="keras")
class VarianceScaling__torch_axes(_Base):
    def __call__(self, shape, dtype=None):
        receptive = math.prod(shape[2:])
        return self.draw(shape, dtype, self.variance(shape, shape[1] * receptive, shape[0] * receptive))


@mistake("variance_scaling", ("scale", "distribution", "arguments"),
         "an untruncated normal where the distribution is 'truncated_normal'", track="keras")
class VarianceScaling__untruncated(_Base):
    def __call__(self, shape, dtype=None):
        s = self.variance(shape)
        if self.distribution == "uniform":
            return self.draw(shape, dtype, s)
        return keras.random.normal(shape, 0.0, math.sqrt(s), dtype=dtype, seed=self.seed)


@mistake("variance_scaling", ("scale", "arguments"),
         "truncated normal without the 0.8796 correction: variance 0.774·s", track="keras")
class VarianceScaling__no_correction(_Base):
    def __call__(self, shape, dtype=None):
        s = self.variance(shape)
        if self.distribution == "truncated_normal":
            return keras.random.truncated_normal(shape, 0.0, math.sqrt(s), dtype=dtype, seed=self.seed)
        return self.draw(shape, dtype, s)


@mistake("variance_scaling", ("interface", "rng"),
         "the seed never reaches keras.random (so get_config cannot reproduce it either)", track="keras")
class VarianceScaling__seed_ignored(_Base):
    def __call__(self, shape, dtype=None):
        seed, self.seed = self.seed, None
        try:
            return self.draw(shape, dtype, self.variance(shape))
        finally:
            self.seed = seed


@mistake("variance_scaling", ("rng",), "seed=None replaced by a fixed seed: every model starts alike",
         track="keras")
class VarianceScaling__default_seed(_Base):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(scale, mode, distribution, 1337 if seed is None else seed)


@mistake("variance_scaling", ("arguments",), "fan_avg not halved: fan_in + fan_out", track="keras")
class VarianceScaling__fan_avg_sum(_Base):
    def variance(self, shape, fan_in=None, fan_out=None):
        fan_in, fan_out = _keras_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": fan_in + fan_out}[self.mode]
        return self.scale / max(1.0, n)


@mistake("variance_scaling", ("arguments",), "scale ignored", track="keras")
class VarianceScaling__scale_ignored(_Base):
    def variance(self, shape, fan_in=None, fan_out=None):
        return super().variance(shape) / self.scale


@mistake("variance_scaling", ("arguments",), "uniform limit √s instead of √(3s)", track="keras")
class VarianceScaling__uniform_limit(_Base):
    def draw(self, shape, dtype, s):
        if self.distribution == "uniform":
            return keras.random.uniform(shape, -math.sqrt(s), math.sqrt(s), dtype=dtype, seed=self.seed)
        return super().draw(shape, dtype, s)


@mistake("variance_scaling", ("scale", "arguments"), "HeNormal with scale 1 (that is LecunNormal)",
         track="keras", fixed=PRESETS["HeNormal"])
class HeNormal__scale_one(_preset(_Base, "LecunNormal")):
    pass


@mistake("variance_scaling", ("scale", "arguments"), "GlorotUniform with mode fan_in instead of fan_avg",
         track="keras", fixed=PRESETS["GlorotUniform"])
class GlorotUniform__fan_in(_preset(_Base, "HeUniform")):
    def __init__(self, seed=None):
        _Base.__init__(self, 1.0, "fan_in", "uniform", seed)


@mistake("variance_scaling", ("interface",),
         "a preset whose get_config returns the parent's arguments (from_config fails)",
         track="keras", fixed=PRESETS["HeUniform"])
class HeUniform__full_config(_Base):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class _Orthogonal(keras.initializers.Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}

    def q(self, rows, cols, dtype, sign_fix=True):
        tall = keras.random.normal((max(rows, cols), min(rows, cols)), dtype=dtype, seed=self.seed)
        q, r = keras.ops.qr(tall)
        if sign_fix:
            q = q * keras.ops.sign(keras.ops.diagonal(r))
        return keras.ops.transpose(q) if rows < cols else q

    def matrix(self, shape, dtype, gain, sign_fix=True):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs at least 2 dimensions; received shape {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        return keras.ops.reshape(gain * self.q(rows, cols, dtype, sign_fix), shape)

    def __call__(self, shape, dtype=None):
        return self.matrix(shape, dtype, self.gain)


@correct("orthogonal", "QR of the tall Gaussian with keras.ops, signs fixed", track="keras")
class Orthogonal__keras_ops(_Orthogonal):
    pass


@mistake("orthogonal", ("distribution",), "Q from keras.ops.qr without the sign(diag R) fix", track="keras")
class Orthogonal__no_sign_fix(_Orthogonal):
    def __call__(self, shape, dtype=None):
        return self.matrix(shape, dtype, self.gain, sign_fix=False)


@mistake("orthogonal", ("arguments",), "gain ignored", track="keras")
class Orthogonal__gain_ignored(_Orthogonal):
    def __call__(self, shape, dtype=None):
        return self.matrix(shape, dtype, 1.0)


# --- notebook 04's HeUniform, written standalone as the exercise asks ------------------

class _StandaloneHeUniform(keras.initializers.Initializer):
    """U(±√(6/fan_in)) in Keras layout, with the exercise's __init__ and get_config."""

    def __init__(self, seed=None):
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}

    def limit(self, shape):
        fan_in, _ = _keras_fans(shape)
        return math.sqrt(6.0 / max(1.0, fan_in))

    def __call__(self, shape, dtype=None):
        return keras.random.uniform(shape, -self.limit(shape), self.limit(shape), dtype=dtype, seed=self.seed)


@correct("variance_scaling", "notebook 04's standalone HeUniform", track="keras", fixed=PRESETS["HeUniform"])
class HeUniform__standalone(_StandaloneHeUniform):
    pass


@mistake("variance_scaling", ("interface", "rng"), "seed not passed to keras.random.uniform (draws from Keras' global seed)",
         track="keras", fixed=PRESETS["HeUniform"])
class HeUniform__seed_ignored(_StandaloneHeUniform):
    def __call__(self, shape, dtype=None):
        return keras.random.uniform(shape, -self.limit(shape), self.limit(shape), dtype=dtype)


@mistake("variance_scaling", ("scale", "arguments"),
         "fans read in PyTorch's layout: fan_in = shape[1]·prod(shape[2:]) of a Keras (…, in, out) kernel",
         track="keras", fixed=PRESETS["HeUniform"])
class HeUniform__torch_layout(_StandaloneHeUniform):
    def limit(self, shape):
        fan_in = shape[1] * math.prod(shape[2:])
        return math.sqrt(6.0 / fan_in)


@mistake("variance_scaling", ("scale", "arguments"), "limit √(2/fan_in): the std used as the uniform's limit",
         track="keras", fixed=PRESETS["HeUniform"])
class HeUniform__std_as_limit(_StandaloneHeUniform):
    def limit(self, shape):
        fan_in, _ = _keras_fans(shape)
        return math.sqrt(2.0 / fan_in)
