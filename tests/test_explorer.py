"""initkit.explorer: the propagation it plots agrees between frameworks and with notebook
02's variance algebra, bad settings get clear errors, and the widget redraws on a change."""

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from initkit import explorer  # noqa: E402

pytestmark = pytest.mark.frameworks


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_both_frameworks_compute_the_same_network(activation):
    # the weights are drawn once with NumPy, so the two frameworks must agree up to float32 rounding
    torch_run = explorer.propagation("Xavier uniform", activation, depth=30, width=128, framework="PyTorch")
    keras_run = explorer.propagation("Xavier uniform", activation, depth=30, width=128, framework="Keras")
    for a, b in zip(torch_run, keras_run):
        np.testing.assert_allclose(a, b, rtol=1e-4)


def test_relu_under_n01n_shrinks_by_the_predicted_factor_per_layer():
    # variance algebra: n·D(w)·E(x²)/D(z)… gives a std factor 1/√2 per layer under ReLU with D(w) = 1/n
    fwd, bwd = explorer.propagation("N(0, 1/n)", "relu", depth=60, width=512)
    slope = np.polyfit(np.arange(10, 61), np.log(fwd[9:]), 1)[0]
    # one network of width 512, batch 16: the per-layer log-factor fluctuates by a few percent
    assert math.exp(slope) == pytest.approx(1 / math.sqrt(2), rel=0.05)
    pred_fwd, pred_bwd = explorer.predicted("N(0, 1/n)", "relu", depth=60, width=512)
    assert pred_fwd[-1] / pred_fwd[0] == pytest.approx(2 ** (-59 / 2), rel=1e-3)


def test_an_overflow_leaves_nan_forward_and_no_gradient():
    fwd, bwd = explorer.propagation("N(0, 1)", "linear", depth=40, width=256)
    first_nan = int(np.flatnonzero(np.isnan(fwd))[0]) + 1
    assert 30 <= first_nan <= 34  # ln(3.4e38)/ln(16) = 32.0 (notebook 02)
    assert np.isnan(bwd).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"initializer": "xavier"}, r"initializer must be 'N\(0, 1\)', .* or 'Orthogonal × gain'; received 'xavier'"),
    ({"activation": "gelu"}, "activation must be 'relu', .* or 'selu'; received 'gelu'"),
    ({"framework": "jax"}, "framework must be 'PyTorch' or 'Keras'; received 'jax'"),
    ({"depth": 0}, r"depth must be an int in \[1, 1000\]; received 0"),
    ({"width": 2.5}, r"width must be an int in \[2, 4096\]; received 2.5"),
])
def test_bad_settings_are_named(kwargs, message):
    settings = {"initializer": "N(0, 1/n)", "activation": "relu", "depth": 5, "width": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        explorer.propagation(**settings)


def test_the_widget_redraws_when_a_control_changes():
    import matplotlib

    matplotlib.use("Agg")
    box = explorer.explorer()
    controls = [w for row in box.children[:2] for w in row.children] + [box.children[2]]
    status = box.children[3]
    first = status.value
    assert "std at the last layer" in first
    depth = next(w for w in controls if w.description == "depth")
    depth.value = 10
    assert status.value != first
    initializer = next(w for w in controls if w.description == "initializer")
    initializer.value = "N(0, 1)"
    box.children[2].value = "Keras"
    depth.value = 60
    assert "overflow" in status.value
