"""An interactive explorer of signal propagation: pick an initializer, an activation, a depth,
a width and a framework, and see the std of the activations (forward) and of the gradients
(backward) per layer, as in notebook 02.

    from initkit.explorer import explorer
    explorer()          # in JupyterLab: dropdowns and sliders above a live plot

``propagation(...)`` is the computation alone (no widgets), for tests and scripts:

    fwd, bwd = propagation("Kaiming normal", "relu", depth=50, width=256, framework="PyTorch")

The network is notebook 02's: ``depth`` bias-free square layers of ``width`` units, a batch of
16 standard-normal inputs, z_l = W_l·x_{l−1}, x_l = f(z_l). ``fwd[l−1]`` is the std of x_l;
``bwd[l−1]`` is the std of ∂L/∂x_{l−1} for L = Σ r·x_depth with a fixed standard-normal r.
Variance algebra predicts a factor g²·E(f(z)²)/D(z) per layer forward and g²·E(f′(z)²) backward,
with g² = n·D(w) (notebook 02, §1).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._validate import one_of

BATCH = 16

#: name → (std of w as a function of (n, gain of the activation), distribution)
INITIALIZERS = {
    "N(0, 1)": (lambda n, gain: 1.0, "normal"),
    "N(0, 1/n)": (lambda n, gain: 1 / math.sqrt(n), "normal"),
    "Xavier uniform": (lambda n, gain: 1 / math.sqrt(n), "uniform"),
    "Xavier uniform × gain": (lambda n, gain: gain / math.sqrt(n), "uniform"),
    "Kaiming normal (gain of the activation)": (lambda n, gain: gain / math.sqrt(n), "normal"),
    "Orthogonal × gain": (lambda n, gain: gain / math.sqrt(n), "orthogonal"),
}
#: name → the activation's name in torch.nn.functional / keras.activations (and calculate_gain)
ACTIVATIONS = ("relu", "tanh", "linear", "leaky_relu", "sigmoid", "selu")
FRAMEWORKS = ("PyTorch", "Keras")


def _positive_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}]; received {value!r}")
    return int(value)


def weights(initializer: str, activation: str, depth: int, width: int, seed: int = 0) -> np.ndarray:
    """``depth`` weight matrices of shape (width, width) in float32, drawn with NumPy so both
    frameworks run the same network."""
    from .gain import calculate_gain

    std_of, distribution = INITIALIZERS[initializer]
    std = std_of(width, calculate_gain(activation))
    rng = np.random.default_rng(seed)
    if distribution == "normal":
        w = rng.normal(0.0, std, (depth, width, width))
    elif distribution == "uniform":
        w = rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, (depth, width, width))
    else:  # Haar orthogonal (QR with the sign fix) scaled so the entries have std `std`
        q, r = np.linalg.qr(rng.normal(size=(depth, width, width)))
        q *= np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
        w = q * std * math.sqrt(width)
    return w.astype(np.float32)


def propagation(initializer: str, activation: str, depth: int = 50, width: int = 256,
                framework: str = "PyTorch", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(std of x_l for l = 1..depth, std of ∂L/∂x_{l−1} for l = 1..depth); NaN where a
    value overflowed float32."""
    one_of("initializer", initializer, INITIALIZERS)
    one_of("activation", activation, ACTIVATIONS)
    one_of("framework", framework, FRAMEWORKS)
    depth = _positive_int("depth", depth, 1, 1000)
    width = _positive_int("width", width, 2, 4096)
    w = weights(initializer, activation, depth, width, seed)
    rng = np.random.default_rng(seed + 1)
    x0 = rng.standard_normal((BATCH, width)).astype(np.float32)
    r = rng.standard_normal((BATCH, width)).astype(np.float32)
    run = _torch_pass if framework == "PyTorch" else _keras_pass
    xs, grads = run(w, activation, x0, r)
    fwd, bwd = _stds(xs), _stds(grads)
    if np.isnan(fwd).any():  # past an overflow the frameworks disagree (nan or 0): no gradient exists
        bwd[:] = np.nan
    return fwd, bwd


def _stds(arrays) -> np.ndarray:
    out = np.full(len(arrays), np.nan)
    for i, a in enumerate(arrays):
        a = np.asarray(a, dtype=np.float64)
        if np.isfinite(a).all():
            out[i] = a.std()
    return out


def _torch_pass(w, activation, x0, r):
    import torch

    f = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
         "leaky_relu": torch.nn.functional.leaky_relu, "selu": torch.selu}[activation]
    inputs, x = [], torch.from_numpy(x0)
    for w_l in torch.from_numpy(w):
        x = x.detach().requires_grad_(True) if not inputs else x
        x.retain_grad()
        inputs.append(x)
        x = f(x @ w_l.T)
    (x * torch.from_numpy(r)).sum().backward()
    return ([a.detach().numpy() for a in inputs[1:]] + [x.detach().numpy()],
            [a.grad.numpy() if a.grad is not None else np.full(a.shape, np.nan) for a in inputs])


def _keras_pass(w, activation, x0, r):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    f = {"linear": keras.activations.linear, "relu": keras.activations.relu, "tanh": keras.activations.tanh,
         "sigmoid": keras.activations.sigmoid, "selu": keras.activations.selu,
         "leaky_relu": lambda z: keras.activations.leaky_relu(z, negative_slope=0.01)}[activation]
    x = tf.convert_to_tensor(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        inputs = []
        for w_l in w:
            inputs.append(x)
            x = f(tf.matmul(x, w_l, transpose_b=True))
            tape.watch(x)
        loss = tf.reduce_sum(x * r)
    grads = tape.gradient(loss, inputs)
    return [a.numpy() for a in inputs[1:]] + [x.numpy()], [g.numpy() for g in grads]


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "selu": lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0))),
}


def predicted(initializer: str, activation: str, depth: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Notebook 02's variance algebra iterated over the layers, expectations over z ~ N(0, D(z_l))
    on a grid: D(z_l) = g²·E(x_{l−1}²) forward, and the gradient's std multiplied by
    √(g²·E(f′(z_l)²)) per layer backward, g² = n·D(w)."""
    from .gain import calculate_gain

    std_of, _ = INITIALIZERS[initializer]
    g2 = std_of(width, calculate_gain(activation)) ** 2 * width
    f = _NUMPY_ACTIVATIONS[activation]
    t = np.linspace(-12, 12, 4801)
    p = np.exp(-t**2 / 2)
    p /= p.sum()
    second_moment, fwd, factors = 1.0, [], []   # E(x_0²) = 1: standard-normal inputs
    for _ in range(depth):
        q = g2 * second_moment
        if not 0 < q < 1e300:
            break
        z = t * math.sqrt(q)
        y = f(z)
        slope = np.gradient(y, z)
        second_moment = float((y**2 * p).sum())
        fwd.append(math.sqrt(max(second_moment - float((y * p).sum()) ** 2, 0.0)))
        factors.append(g2 * float((slope**2 * p).sum()))
    fwd += [math.nan] * (depth - len(fwd))
    factors += [math.nan] * (depth - len(factors))
    bwd = np.sqrt(np.cumprod(np.array(factors)[::-1])[::-1])
    return np.array(fwd), bwd


def explorer():
    """Dropdowns and sliders above a live two-panel plot (forward, backward). Returns the
    ipywidgets box (displayed when it is a cell's last value)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    controls = {
        "initializer": widgets.Dropdown(options=list(INITIALIZERS), value="Kaiming normal (gain of the activation)",
                                        description="initializer", style={"description_width": "initial"}),
        "activation": widgets.Dropdown(options=ACTIVATIONS, value="relu", description="activation"),
        "depth": widgets.IntSlider(value=50, min=2, max=200, step=1, description="depth", continuous_update=False),
        "width": widgets.IntSlider(value=256, min=16, max=1024, step=16, description="width", continuous_update=False),
        "framework": widgets.ToggleButtons(options=FRAMEWORKS, value="PyTorch", description="framework"),
    }
    status = widgets.HTML()

    def redraw(**settings):
        fwd, bwd = propagation(**settings)
        pred_f, pred_b = predicted(settings["initializer"], settings["activation"], settings["depth"], settings["width"])
        layers = np.arange(1, settings["depth"] + 1)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        for ax, measured, theory, title in [(axes[0], fwd, pred_f, "forward: std of x_l"),
                                            (axes[1], bwd, pred_b, "backward: std of ∂L/∂x_(l−1)")]:
            ax.semilogy(layers, measured, label=f"{settings['framework']}, one network")
            ax.semilogy(layers, theory * (measured[0] / theory[0] if np.isfinite(measured[0]) else 1.0),
                        "k:", label="variance algebra (scaled to layer 1)")
            ax.set(title=title, xlabel="layer l", ylabel="std (log scale)")
            ax.legend(fontsize=8)
        fig.suptitle(f"{settings['initializer']}, {settings['activation']}, "
                     f"{settings['depth']} layers of width {settings['width']}")
        plt.show()
        bad = np.flatnonzero(~np.isfinite(fwd))
        status.value = (f"<b>forward overflow (inf/nan) from layer {bad[0] + 1}</b>" if bad.size else
                        f"std at the last layer: {fwd[-1]:.3g} forward; gradient std at layer 1: {bwd[0]:.3g}")

    plot = widgets.interactive_output(redraw, controls)
    first_row = widgets.HBox([controls["initializer"], controls["activation"]])
    second_row = widgets.HBox([controls["depth"], controls["width"]])
    return widgets.VBox([first_row, second_row, controls["framework"], status, plot])
