"""Parity of ``initkit.variance_scaling`` and ``initkit.keras_track`` with Keras 3.

Keras semantics (``keras/src/initializers/random_initializers.py``): fans in keras layout
``(*k, in, out)``; ``s = scale / max(1, n)`` with n = fan_in, fan_out or their mean;
"truncated_normal" draws N(0, σ²) cut at ±2σ with σ = √s / 0.87962566103423978,
"untruncated_normal" N(0, s), "uniform" U(±√(3s)); "normal" is an alias of
"truncated_normal". Presets: GlorotUniform/GlorotNormal (1, fan_avg), HeUniform/HeNormal
(2, fan_in), LecunNormal (1, fan_in).

For every mode × distribution × shape: two-sample KS of ours (NumPy track and Keras track,
independent seeds) against Keras' own values on the raw scale, mean/variance of all three
against the formula, and exact support (±√(3s) for uniform, ±2σ for the truncated normal).
Thresholds: ``tests/stats_helpers.py``.
"""

from __future__ import annotations

import math
import os
import zlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import initkit  # noqa: E402
from initkit import keras_track as kt  # noqa: E402
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402
from stats_helpers import (  # noqa: E402
    ALPHA,
    assert_moments,
    assert_same_distribution,
    assert_support,
    normal_law,
    truncnorm_law,
    uniform_law,
)

pytestmark = pytest.mark.frameworks

TRUNC_STD = 0.87962566103423978  # Keras' constant: std of N(0, 1) truncated to [-2, 2]

# keras layout (*k, in, out), ≥ 10^5 entries, fan_in ≠ fan_out
SHAPES = {
    "dense400x250": (400, 250),            # fan_in 400, fan_out 250
    "conv2d5x5x32x128": (5, 5, 32, 128),   # fan_in 800, fan_out 3200
    "conv1d50x40x50": (50, 40, 50),        # fan_in 2000, fan_out 2500
    "bias100000": (100_000,),              # 1-D: fan_in = fan_out = n
}
MODES = ["fan_in", "fan_out", "fan_avg"]
DISTRIBUTIONS = ["truncated_normal", "untruncated_normal", "uniform"]


def seed_for(*parts) -> int:
    return zlib.crc32(repr(parts).encode()) % (2**31 - 2) + 1


def to_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def law_for(shape, scale, mode, distribution):
    """The formula's law, with the fans from Keras' own ``compute_fans``."""
    fan_in, fan_out = keras_compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    s = scale / max(1.0, n)
    if distribution == "uniform":
        return uniform_law(math.sqrt(3.0 * s)), s
    if distribution == "untruncated_normal":
        return normal_law(math.sqrt(s)), s
    sigma = math.sqrt(s) / TRUNC_STD
    return truncnorm_law(0.0, sigma, -2.0 * sigma, 2.0 * sigma), s


def check_three(law, ref, x_np, x_kt, label, bounded):
    k = 2 + 3 + (3 if bounded else 0)
    a = ALPHA / k
    assert_same_distribution(x_np, ref, a, f"{label}: NumPy track vs keras")
    assert_same_distribution(x_kt, ref, a, f"{label}: keras track vs keras")
    for name, x in (("keras", ref), ("NumPy track", x_np), ("keras track", x_kt)):
        assert_moments(x, law, a, f"{label}: {name}")
    if bounded:
        assert_support(ref, law, a, f"{label}: keras", float32=True)
        assert_support(x_np, law, a, f"{label}: NumPy track", float32=False)
        assert_support(x_kt, law, a, f"{label}: keras track", float32=True)


VS_CASES = [(m, d, sh, 2.0) for d in DISTRIBUTIONS for m in MODES for sh in ("dense400x250", "conv2d5x5x32x128")]
VS_CASES += [
    ("fan_avg", "truncated_normal", "conv1d50x40x50", 0.3),
    ("fan_out", "uniform", "conv1d50x40x50", 1.0),
    ("fan_in", "untruncated_normal", "bias100000", 1.0),
    ("fan_avg", "truncated_normal", "bias100000", 5.0),
    ("fan_in", "normal", "dense400x250", 1.0),  # the alias of truncated_normal
]


@pytest.mark.parametrize("mode,distribution,shape_id,scale", VS_CASES,
                         ids=[f"{m}-{d}-{sh}-scale{sc}" for m, d, sh, sc in VS_CASES])
def test_variance_scaling(mode, distribution, shape_id, scale):
    shape = SHAPES[shape_id]
    law, s = law_for(shape, scale, mode, "truncated_normal" if distribution == "normal" else distribution)
    assert math.isclose(law.var, s, rel_tol=1e-12), "the 0.8796… correction makes the variance s"
    kw = dict(scale=scale, mode=mode, distribution=distribution)
    sd = seed_for("vs", mode, distribution, shape_id, scale)
    ref = to_numpy(keras.initializers.VarianceScaling(seed=sd, **kw)(shape))
    x_np = initkit.variance_scaling(shape, rng=np.random.default_rng(sd + 1), **kw)
    assert isinstance(x_np, np.ndarray) and x_np.shape == shape
    x_kt = to_numpy(kt.VarianceScaling(seed=sd + 2, **kw)(shape))
    assert x_kt.shape == shape and x_kt.dtype == np.float32
    check_three(law, ref, x_np, x_kt, f"VarianceScaling {kw} {shape}", distribution != "untruncated_normal")


PRESETS = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
}


@pytest.mark.parametrize("shape_id", ["dense400x250", "conv2d5x5x32x128"])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_presets(preset, shape_id):
    shape = SHAPES[shape_id]
    scale, mode, distribution = PRESETS[preset]
    law, _ = law_for(shape, scale, mode, distribution)
    sd = seed_for("preset", preset, shape_id)
    ref = to_numpy(getattr(keras.initializers, preset)(seed=sd)(shape))
    ours_cls = getattr(kt, preset)
    assert issubclass(ours_cls, kt.VarianceScaling), f"{preset} must be a thin VarianceScaling subclass"
    x_kt = to_numpy(ours_cls(seed=sd + 1)(shape))
    assert x_kt.shape == shape and x_kt.dtype == np.float32
    # also what the check engine grades it against: variance_scaling with the fixed arguments
    x_np = initkit.variance_scaling(shape, scale, mode, distribution, rng=np.random.default_rng(sd + 2))
    check_three(law, ref, x_np, x_kt, f"{preset} {shape}", True)


# ---------------------------------------------------------------- Keras-track mechanics

ALL_CLASSES = {
    "VarianceScaling": lambda seed: kt.VarianceScaling(0.5, "fan_out", "uniform", seed=seed),
    "GlorotUniform": lambda seed: kt.GlorotUniform(seed=seed),
    "GlorotNormal": lambda seed: kt.GlorotNormal(seed=seed),
    "HeUniform": lambda seed: kt.HeUniform(seed=seed),
    "HeNormal": lambda seed: kt.HeNormal(seed=seed),
    "LecunNormal": lambda seed: kt.LecunNormal(seed=seed),
    "Orthogonal": lambda seed: kt.Orthogonal(gain=1.5, seed=seed),
}


@pytest.mark.parametrize("name", list(ALL_CLASSES))
def test_keras_track_initializer_protocol(name):
    make = ALL_CLASSES[name]
    init = make(11)
    assert isinstance(init, keras.initializers.Initializer)
    shape = (3, 3, 4, 8)
    w = init(shape)
    x = to_numpy(w)
    assert x.shape == shape and x.dtype == np.float32, "float32 by default, like Keras"
    assert np.isfinite(x).all()
    # Keras 3 semantics: an int-seeded initializer repeats its values; same seed ⇒ same values
    assert np.array_equal(to_numpy(init(shape)), x)
    assert np.array_equal(to_numpy(make(11)(shape)), x)
    assert not np.array_equal(to_numpy(make(12)(shape)), x)
    # get_config round-trips through from_config, values included
    config = init.get_config()
    assert config.get("seed") == 11
    clone = type(init).from_config(config)
    assert type(clone) is type(init) and clone.get_config() == config
    assert np.array_equal(to_numpy(clone(shape)), x)
    # and through Keras' own (de)serialization with the class registered as a custom object
    restored = keras.initializers.deserialize(keras.initializers.serialize(init),
                                              custom_objects={type(init).__name__: type(init)})
    assert np.array_equal(to_numpy(restored(shape)), x)


@pytest.mark.parametrize("name", [n for n in ALL_CLASSES if n != "Orthogonal"])
def test_keras_track_dtype_float64(name):
    """Keras' initializers honour dtype="float64"; ours too."""
    ref_cls = getattr(keras.initializers, name)
    ref = ref_cls(seed=1)((4, 5), dtype="float64") if name != "VarianceScaling" else \
        ref_cls(0.5, "fan_out", "uniform", seed=1)((4, 5), dtype="float64")
    assert to_numpy(ref).dtype == np.float64
    assert to_numpy(ALL_CLASSES[name](1)((4, 5), dtype="float64")).dtype == np.float64


def test_keras_track_config_values():
    init = kt.VarianceScaling(scale=0.5, mode="fan_avg", distribution="normal", seed=3)
    ref = keras.initializers.VarianceScaling(scale=0.5, mode="fan_avg", distribution="normal", seed=3)
    ours, theirs = init.get_config(), ref.get_config()
    for key in ("scale", "mode", "distribution", "seed"):
        assert ours[key] == theirs[key], f"{key}: ours {ours[key]!r}, keras {theirs[key]!r}"
    assert ours["distribution"] == "truncated_normal"
    assert kt.Orthogonal(gain=2.0, seed=4).get_config()["gain"] == keras.initializers.Orthogonal(
        gain=2.0, seed=4).get_config()["gain"]


def test_keras_track_unseeded():
    """seed=None: Keras picks a random seed once; two unseeded instances differ."""
    a, b = kt.HeNormal(), kt.HeNormal()
    xa = to_numpy(a((50, 40)))
    assert np.array_equal(to_numpy(a((50, 40))), xa), "an unseeded Keras initializer repeats its values"
    assert not np.array_equal(to_numpy(b((50, 40))), xa)


BAD_VS = [dict(mode="fan_sum"), dict(mode="FAN_IN"), dict(distribution="cauchy"), dict(scale=0.0),
          dict(scale=-1.0)]


@pytest.mark.parametrize("kw", BAD_VS, ids=[f"{k}={v}" for d in BAD_VS for k, v in d.items()])
def test_variance_scaling_errors(kw):
    with pytest.raises(ValueError):
        keras.initializers.VarianceScaling(**kw)
    with pytest.raises(ValueError):
        kt.VarianceScaling(**kw)
    with pytest.raises(ValueError):
        initkit.variance_scaling((4, 5), rng=np.random.default_rng(0), **kw)


# ---------------------------------------------------------------- serialization, as Keras' own tests
# keras/src/initializers/random_initializers_test.py checks, per initializer: the arguments kept as
# attributes, the shape, a fixed seed repeating its values, a SeedGenerator drawing afresh at every
# call, an unseeded clone (from_config) drawing other values and a seeded clone the same ones, and
# `run_class_serialization_test` (get_config → from_config and serialize_keras_object →
# deserialize_keras_object, both with the same config JSON and the same attributes) — for a seed
# int, None and a SeedGenerator. Ours, with no custom_objects: registration must be enough.

def _config_json(initializer) -> str:
    import json

    return json.dumps(initializer.get_config(), sort_keys=True)


SEEDS = {"int": lambda: 1337, "None": lambda: None, "SeedGenerator": lambda: keras.random.SeedGenerator(1337)}


@pytest.mark.parametrize("seed_kind", list(SEEDS))
@pytest.mark.parametrize("name", list(ALL_CLASSES))
def test_keras_track_serialization_round_trips(name, seed_kind):
    from keras.saving import deserialize_keras_object, serialize_keras_object

    initializer = ALL_CLASSES[name](SEEDS[seed_kind]())
    config = _config_json(initializer)
    revived = type(initializer).from_config(initializer.get_config())
    assert _config_json(revived) == config and set(dir(revived)) == set(dir(initializer))
    serialized = serialize_keras_object(initializer)
    assert serialized["registered_name"] == f"initkit>{name}", serialized
    revived = deserialize_keras_object(serialized)  # no custom_objects: found by its registered name
    assert type(revived) is type(initializer)
    assert _config_json(revived) == config and set(dir(revived)) == set(dir(initializer))
    assert type(keras.initializers.get(f"initkit>{name}")) is type(initializer)  # as initializers.get("glorot_normal")


@pytest.mark.parametrize("name", list(ALL_CLASSES))
def test_keras_track_seeding_as_keras(name):
    make, shape = ALL_CLASSES[name], (25, 20)
    seeded = make(1337)
    assert seeded.seed == 1337
    values = to_numpy(seeded(shape))
    assert values.shape == shape
    assert np.array_equal(to_numpy(seeded(shape)), values), "a fixed seed repeats its values"
    assert np.array_equal(to_numpy(type(seeded).from_config(seeded.get_config())(shape)), values), \
        "a seeded clone draws the same values"
    generated = make(keras.random.SeedGenerator(1337))
    assert not np.array_equal(to_numpy(generated(shape)), to_numpy(generated(shape))), \
        "a SeedGenerator draws afresh at every call"
    unseeded = make(None)
    assert not np.array_equal(to_numpy(unseeded(shape)), to_numpy(type(unseeded).from_config(unseeded.get_config())(shape))), \
        "an unseeded clone draws other values"


def test_keras_track_arguments_kept_as_attributes():
    vs = kt.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=1234)
    assert (vs.scale, vs.mode, vs.distribution, vs.seed) == (2.0, "fan_out", "uniform", 1234)
    assert (kt.Orthogonal(gain=2.0, seed=1234).gain, kt.Orthogonal(gain=2.0, seed=1234).seed) == (2.0, 1234)


def test_keras_track_orthogonal_columns_as_keras_tests_them():
    """Keras' test: on (5, 5) with gain 2 every column has norm gain and is orthogonal to the others."""
    w = to_numpy(kt.Orthogonal(gain=2.0, seed=1234)((5, 5))).astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0), 2.0, atol=1e-5)
    off_diagonal = w.T @ w - np.diag(np.diag(w.T @ w))
    assert np.abs(off_diagonal).max() < 1e-5


@pytest.mark.parametrize("name", list(ALL_CLASSES))
def test_a_model_built_with_each_class_saves_and_loads(name, tmp_path):
    """model.save to a .keras file and keras.models.load_model give back the same config and
    weights, with no custom_objects (issue 17: "Could not locate class 'VarianceScaling'")."""
    import json

    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 3)),
                              layers.Conv2D(4, 3, kernel_initializer=ALL_CLASSES[name](3)),
                              layers.Flatten(), layers.Dense(5, kernel_initializer=ALL_CLASSES[name](None))])
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(model.get_config(), sort_keys=True)
    assert type(loaded.layers[0].kernel_initializer) is type(model.layers[0].kernel_initializer)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        assert np.array_equal(ours, theirs)
