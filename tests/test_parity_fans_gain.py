"""Parity of ``initkit.compute_fans`` and ``initkit.calculate_gain`` with PyTorch and Keras.

Ground truth is the frameworks' own code: ``torch.nn.init._calculate_fan_in_and_fan_out``
(torch layout ``(out, in, *k)``), ``keras.src.initializers.random_initializers.compute_fans``
(keras layout ``(*k, in, out)``) and ``torch.nn.init.calculate_gain``. Deterministic
integer / float results: compared exactly (fans) or to 1e-15 relative (gains).
"""

from __future__ import annotations

import math
import os
import typing

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import initkit  # noqa: E402
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402

pytestmark = pytest.mark.frameworks

# 0-D to 5-D: dense, conv1d/2d/3d kernels, non-square, size-1 and size-0 dimensions
SHAPES = [
    (),
    (7,),
    (1,),
    (0,),
    (3, 5),
    (5, 3),
    (1, 1),
    (256, 128),
    (10, 0),
    (64, 3, 7),          # conv1d torch / (k, in, out) keras
    (7, 3, 64),
    (64, 3, 5, 5),       # conv2d torch
    (5, 5, 3, 64),       # conv2d keras
    (32, 16, 3, 1),      # non-square kernel
    (1, 3, 2, 64),
    (8, 4, 3, 3, 3),     # conv3d
    (3, 3, 3, 4, 8),
    (2, 3, 4, 5, 6),
    (6, 5, 4, 3, 2),
    (16, 1, 1, 1),       # depthwise-like
    (1, 1, 16, 1),
    (3, 0, 2, 2),
    (4, 6, 1, 9, 2),
]

TORCH_NONLINEARITIES = typing.get_args(torch.nn.init._NonlinearityType)


def _ids(shapes):
    return ["x".join(map(str, s)) if s else "0-D" for s in shapes]


@pytest.mark.parametrize("shape", SHAPES, ids=_ids(SHAPES))
def test_compute_fans_torch_layout(shape):
    if len(shape) < 2:
        with pytest.raises(ValueError):
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        with pytest.raises(ValueError):
            initkit.compute_fans(shape, layout="torch")
        with pytest.raises(ValueError):
            initkit.compute_fans(shape)  # torch is the default layout
        return
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    got = initkit.compute_fans(shape, layout="torch")
    assert tuple(got) == tuple(expected), f"{shape}: got {got}, torch says {expected}"
    assert initkit.compute_fans(shape) == got
    assert isinstance(got, tuple) and len(got) == 2
    assert all(type(f) is int for f in got), f"fans must be Python ints, got {[type(f) for f in got]}"


@pytest.mark.parametrize("shape", SHAPES, ids=_ids(SHAPES))
def test_compute_fans_keras_layout(shape):
    expected = keras_compute_fans(shape)
    got = initkit.compute_fans(shape, layout="keras")
    assert tuple(got) == tuple(expected), f"{shape}: got {got}, keras says {expected}"
    assert all(type(f) is int for f in got), f"fans must be Python ints, got {[type(f) for f in got]}"


def test_compute_fans_accepts_lists_and_numpy_ints():
    shape = [np.int64(64), np.int64(3), 5, 5]
    assert initkit.compute_fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(64, 3, 5, 5))
    assert all(type(f) is int for f in initkit.compute_fans(shape))
    assert initkit.compute_fans(shape[::-1], layout="keras") == keras_compute_fans((5, 5, 3, 64))


@pytest.mark.parametrize("layout", ["tf", "pytorch", "Torch", "channels_last", "", None, 0])
def test_compute_fans_unknown_layout(layout):
    with pytest.raises(ValueError):
        initkit.compute_fans((3, 5), layout=layout)


# ---------------------------------------------------------------- calculate_gain


def test_torch_table_is_the_course_table():
    """The course's table (COURSE.md §5) lists exactly torch's nonlinearities."""
    assert set(TORCH_NONLINEARITIES) == {
        "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
    }


@pytest.mark.parametrize("nonlinearity", TORCH_NONLINEARITIES)
def test_calculate_gain_default(nonlinearity):
    expected = torch.nn.init.calculate_gain(nonlinearity)
    got = initkit.calculate_gain(nonlinearity)
    assert isinstance(got, float), f"gain must be a float, got {type(got).__name__}"
    assert math.isclose(got, expected, rel_tol=1e-15), f"{nonlinearity}: {got} vs torch {expected}"


LEAKY_SLOPES = [0, 0.0, 0.01, 0.2, 1, 1.0, 3, 3.0, -0.5, 0.5, 100, np.float64(0.2), None]


@pytest.mark.parametrize("slope", LEAKY_SLOPES, ids=[f"{type(s).__name__}({s})" for s in LEAKY_SLOPES])
def test_calculate_gain_leaky_slopes(slope):
    expected = torch.nn.init.calculate_gain("leaky_relu", slope)
    got = initkit.calculate_gain("leaky_relu", slope)
    assert isinstance(got, float)
    assert math.isclose(got, expected, rel_tol=1e-15), f"slope {slope!r}: {got} vs torch {expected}"


IGNORED = [("tanh", "abc"), ("relu", True), ("linear", 0.5), ("selu", [1]), ("sigmoid", None),
           ("conv2d", -3), ("relu", 0.2)]


@pytest.mark.parametrize("nonlinearity,param", IGNORED, ids=[f"{n}-{p!r}" for n, p in IGNORED])
def test_calculate_gain_ignores_param_elsewhere(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    got = initkit.calculate_gain(nonlinearity, param)
    assert math.isclose(got, expected, rel_tol=1e-15)


def _assert_names(msg: str, value) -> None:
    named = repr(value) in msg or (str(value) != "" and str(value) in msg)
    assert named, f"the error message does not name the received value {value!r}: {msg!r}"


BAD_PARAMS = [True, False, "0.2", "abc", [0.2], (0.1,), 1j, np.int64(1), np.float32(0.2), object()]


BAD_PARAM_IDS = ["True", "False", "str-0.2", "str-abc", "list", "tuple", "complex", "np.int64", "np.float32", "object"]


@pytest.mark.parametrize("param", BAD_PARAMS, ids=BAD_PARAM_IDS)
def test_calculate_gain_bad_leaky_param(param):
    """torch raises ValueError for anything but a Python int/float (bools excluded; numpy
    scalars other than float64, a float subclass, included). Ours must too, naming the value."""
    with pytest.raises(Exception) as torch_err:
        torch.nn.init.calculate_gain("leaky_relu", param)
    with pytest.raises(Exception) as our_err:
        initkit.calculate_gain("leaky_relu", param)
    assert our_err.type is torch_err.type is ValueError, (our_err.type, torch_err.type)
    _assert_names(str(our_err.value), param)


BAD_NAMES = ["gelu", "ReLU", "Tanh", "leaky relu", "", "conv4d", None, 3]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n) for n in BAD_NAMES])
def test_calculate_gain_unknown_nonlinearity(name):
    with pytest.raises(Exception) as torch_err:
        torch.nn.init.calculate_gain(name)
    with pytest.raises(Exception) as our_err:
        initkit.calculate_gain(name)
    assert our_err.type is torch_err.type is ValueError, (our_err.type, torch_err.type)
    _assert_names(str(our_err.value), name)
