"""The numbers the checks' target laws are built from — fans, gains and Keras' truncation
constant — written here from the frameworks' documentation, independently of the library
code the checks grade (``initkit.fans``, ``initkit.gain``, ``initkit.variance_scaling``).

A bug in the library must not move the target: the reference implementation is graded
against these tables like any student's function (tests/test_targets.py pins both to fixed
numbers from the documentation, without importing torch or TensorFlow).

- fans (``torch.nn.init._calculate_fan_in_and_fan_out``; Keras' ``compute_fans``): the
  receptive field is the product of the kernel dimensions k; torch weights are
  ``(out, in, *k)``, Keras kernels ``(*k, in, out)``; fan_in = in·∏k, fan_out = out·∏k.
  Keras: a 0-D shape has fans (1, 1), a 1-D shape (n,) has (n, n).
- gains (``torch.nn.init.calculate_gain``): linear, conv*, conv_transpose*, sigmoid → 1;
  tanh → 5/3; relu → √2; selu → 3/4; leaky_relu → √(2/(1 + slope²)), slope 0.01 by default.
- ``KERAS_TRUNCATED_STD``: std of N(0, 1) cut at ±2, √(1 − 4φ(2)/(2Φ(2) − 1)) =
  0.87962566103423978, the constant Keras divides σ by in ``VarianceScaling``.
"""

from __future__ import annotations

import math

#: torch.nn.init.calculate_gain's table, leaky_relu aside (its gain depends on the slope).
GAINS = {
    "linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
    "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
    "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75,
}
#: leaky_relu's negative slope when ``param`` is None (torch's default).
LEAKY_DEFAULT_SLOPE = 0.01
#: Keras' ``VarianceScaling`` constant, the std of N(0, 1) truncated to [−2, 2].
KERAS_TRUNCATED_STD = 0.87962566103423978


def fans(shape: tuple, layout: str = "torch") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``: torch ``(out, in, *k)`` or Keras
    ``(*k, in, out)``; fan = channels · ∏k. Only called with shapes the contract allows."""
    dims = tuple(int(d) for d in shape)
    if layout == "keras":
        if len(dims) < 2:
            n = dims[0] if dims else 1
            return n, n
        receptive_field = math.prod(dims[:-2])
        return dims[-2] * receptive_field, dims[-1] * receptive_field
    if layout != "torch" or len(dims) < 2:
        raise ValueError(f"no fans for shape {dims!r} in layout {layout!r}")
    receptive_field = math.prod(dims[2:])
    return dims[1] * receptive_field, dims[0] * receptive_field


def gain(nonlinearity: str, param=None) -> float:
    """torch's gain: ``GAINS[nonlinearity]``, or √(2/(1 + slope²)) for leaky_relu
    (slope = ``param``, 0.01 when None); ``param`` is ignored for the other names."""
    if nonlinearity == "leaky_relu":
        slope = LEAKY_DEFAULT_SLOPE if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    return GAINS[nonlinearity]
