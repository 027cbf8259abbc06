"""Notebook 08, Keras: ``init_weights_keras(model, seed)`` applying the Weight-initialization
note's policy to a built model, graded by ``initkit.checks.check_init_weights_keras``.
Importing this module imports Keras and registers the entries; each uses only ``keras`` (the notebook imports it)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from . import correct, mistake  # noqa: E402

TARGET = "init_weights_keras"


def _policy(layer, seed, dense_kernel=None, conv_kernel=None, skip=()):
    """Initialize one layer by the policy; the keyword arguments let a mistake swap a part."""
    if isinstance(layer, keras.layers.Dense) and "dense" not in skip:
        kernel = (dense_kernel or keras.initializers.GlorotNormal)(seed=seed)
    elif isinstance(layer, keras.layers.Conv2D) and "conv" not in skip:
        kernel = conv_kernel(seed) if conv_kernel else keras.initializers.VarianceScaling(
            2.0, "fan_out", "truncated_normal", seed=seed)
    elif isinstance(layer, keras.layers.BatchNormalization) and "batchnorm" not in skip:
        layer.gamma.assign(keras.ops.ones(layer.gamma.shape))
        layer.beta.assign(keras.ops.zeros(layer.beta.shape))
        return
    else:
        return
    layer.kernel.assign(kernel(layer.kernel.shape))
    if layer.bias is not None and "bias" not in skip:
        layer.bias.assign(keras.ops.zeros(layer.bias.shape))


def _policy_variance(layer):
    """The policy's variance for a Dense or Conv2D kernel (Keras layout: (*kernel, in, out))."""
    shape = tuple(layer.kernel.shape)
    receptive = 1
    for k in shape[:-2]:
        receptive *= k
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    return 2.0 / (fan_in + fan_out) if isinstance(layer, keras.layers.Dense) else 2.0 / fan_out


@correct(TARGET, "one seeded preset per layer, seed + index", track="keras")
def per_layer_presets(model, seed):
    for i, layer in enumerate(model.layers):
        _policy(layer, seed + i)


@correct(TARGET, "keras.random.truncated_normal with the corrected std, one SeedGenerator", track="keras")
def by_hand_with_a_seed_generator(model, seed):
    generator = keras.random.SeedGenerator(seed)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            std = _policy_variance(layer) ** 0.5 / 0.87962566103423978
            layer.kernel.assign(keras.random.truncated_normal(tuple(layer.kernel.shape), stddev=std, seed=generator))
            if layer.bias is not None:
                layer.bias.assign(keras.ops.zeros(layer.bias.shape))
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.gamma.assign(keras.ops.ones(layer.gamma.shape))
            layer.beta.assign(keras.ops.zeros(layer.beta.shape))


@mistake(TARGET, ("distribution",), "the same seed for every layer: layers of one shape start identical",
         track="keras")
def same_seed_every_layer(model, seed):
    for layer in model.layers:
        _policy(layer, seed)


@mistake(TARGET, ("distribution",), "initializers built without a seed: every run differs", track="keras")
def seed_ignored(model, seed):
    for layer in model.layers:
        _policy(layer, None)


@mistake(TARGET, ("scale", "distribution"),
         "keras.initializers.RandomNormal(stddev=√s): untruncated, as torch — not Keras' presets", track="keras")
def untruncated_normal(model, seed):
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            kernel = keras.initializers.RandomNormal(stddev=_policy_variance(layer) ** 0.5, seed=seed + i)
            _policy(layer, seed + i, dense_kernel=lambda seed: kernel, conv_kernel=lambda seed: kernel)
        else:
            _policy(layer, seed + i)


@mistake(TARGET, ("distribution",), "GlorotUniform for Dense kernels: the right variance, the wrong family",
         track="keras")
def glorot_uniform_dense(model, seed):
    for i, layer in enumerate(model.layers):
        _policy(layer, seed + i, dense_kernel=keras.initializers.GlorotUniform)


@mistake(TARGET, ("scale",), "HeNormal (mode fan_in) for Conv2D kernels instead of fan_out", track="keras")
def conv_he_normal_fan_in(model, seed):
    for i, layer in enumerate(model.layers):
        _policy(layer, seed + i, conv_kernel=lambda seed: keras.initializers.HeNormal(seed=seed))


@mistake(TARGET, ("coverage",), "BatchNormalization layers skipped: gamma and beta keep their old values",
         track="keras")
def batchnorm_skipped(model, seed):
    for i, layer in enumerate(model.layers):
        _policy(layer, seed + i, skip=("batchnorm",))


@mistake(TARGET, ("coverage", "scale", "distribution"),
         "sets layer.kernel_initializer / bias_initializer on the built model: Keras used its initializers "
         "when the layers were built, so nothing changes", track="keras")
def sets_initializer_attributes(model, seed):
    for i, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.Dense):
            layer.kernel_initializer = keras.initializers.GlorotNormal(seed=seed + i)
            layer.bias_initializer = keras.initializers.Zeros()
        elif isinstance(layer, keras.layers.Conv2D):
            layer.kernel_initializer = keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal",
                                                                          seed=seed + i)
            layer.bias_initializer = keras.initializers.Zeros()
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.gamma.assign(keras.ops.ones(layer.gamma.shape))
            layer.beta.assign(keras.ops.zeros(layer.beta.shape))
