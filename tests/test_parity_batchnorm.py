"""Parity of ``initkit.batch_norm``, ``batch_norm_inference`` and ``update_running_stats``
with ``torch.nn.functional.batch_norm`` / ``nn.BatchNorm1d/2d`` and Keras'
``BatchNormalization``.

- torch in float64: agreement to the float64 rounding bound of ``stats_helpers.bn_tolerance``
  (≈ 1e-13 here; never looser than COURSE.md's 1e-10 relative).
- Keras computes in float32 (its layer upcasts to float32 and ``tf.nn.moments`` is two-pass):
  our float64 result on the *same* float32 input must lie within the float32 bound
  ``bn_tolerance(..., u=2**-24)`` — a worst-case bound growing like u·n·(1 + |mean|/std)
  (observed errors are 1–2 % of it). Batches are kept small (n ≤ 256 values per channel)
  so that the bound (≤ 1e-4 for centred inputs, ≤ 3e-3 at |mean|/std = 50) stays below the
  effect of the mistakes it must catch (unbiased variance: 1/(2n) ≥ 2e-3 of |γ·x̂|; eps
  1e-3 vs 1e-5: ~5e-4·|γ·x̂| at unit variance) — ``test_keras_tolerance_is_sharp_enough``
  checks that.
- Running statistics: torch convention (new = (1−m)·old + m·batch, unbiased batch variance),
  compared with a float64 torch module after one and several training steps, and the
  eval-mode output with ``batch_norm_inference``.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import initkit  # noqa: E402
from stats_helpers import U32, U64, bn_tolerance  # noqa: E402

pytestmark = pytest.mark.frameworks



# (id, shape, per-channel mean, per-channel std) — non-zero means, including |mean|/std = 50
CASES = [
    ("2D-centred", (64, 5), [0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.1, 3.0, 10.0, 1e-2]),
    ("2D-offset", (128, 4), [3.0, -20.0, 100.0, 0.5], [1.0, 2.0, 2.0, 0.01]),
    ("NCHW-offset", (8, 3, 4, 4), [5.0, -1.0, 50.0], [2.0, 0.5, 1.0]),
    ("NCHW-wide", (16, 6, 4, 4), [0.0, 1.0, -3.0, 10.0, 0.2, -50.0], [1.0, 1.0, 0.3, 5.0, 0.01, 2.0]),
]
EPS = [1e-5, 1e-3]


def make_input(shape, means, stds, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    c = shape[1]
    bshape = (1, c) + (1,) * (len(shape) - 2)
    x = rng.standard_normal(shape) * np.reshape(stds, bshape) + np.reshape(means, bshape)
    gamma = rng.uniform(0.5, 2.0, c) * rng.choice([-1.0, 1.0], c)
    beta = rng.normal(0.0, 3.0, c)
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


def axes_of(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def assert_within(ours, ref, tol, label):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"{label}: shape {ours.shape} vs {ref.shape}"
    err = np.abs(ours - ref)
    worst = np.unravel_index(np.argmax(err / tol), err.shape)
    assert (err <= tol).all(), (
        f"{label}: |ours − ref| exceeds the rounding bound at {worst}: ours {ours[worst]!r}, "
        f"ref {ref[worst]!r}, diff {err[worst]:.3g}, bound {tol[worst]:.3g} "
        f"({int((err > tol).sum())} of {err.size} elements; max rel "
        f"{float((err / np.maximum(np.abs(ref), 1e-300)).max()):.3g})"
    )


@pytest.mark.parametrize("eps", EPS, ids=["eps1e-5", "eps1e-3"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_batch_norm_vs_torch_float64(case, eps):
    _, shape, means, stds = case
    x, gamma, beta = make_input(shape, means, stds, seed=zlib.crc32(case[0].encode()) % 1000, dtype=np.float64)
    ref = torch.nn.functional.batch_norm(
        torch.from_numpy(x), None, None, torch.from_numpy(gamma), torch.from_numpy(beta),
        training=True, momentum=0.1, eps=eps,
    ).numpy()
    ours = initkit.batch_norm(x, gamma, beta, eps=eps)
    assert isinstance(ours, np.ndarray) and ours.shape == x.shape and ours.dtype == np.float64
    tol = bn_tolerance(x, gamma, beta, axes_of(x), eps, U64)
    assert (tol <= 1e-10 * (1 + np.abs(ref))).all(), "the float64 bound is at least as strict as 1e-10"
    assert_within(ours, ref, tol, f"batch_norm vs torch float64 {shape} eps={eps}")


def keras_batch_norm(x, gamma, beta, eps):
    layer = keras.layers.BatchNormalization(axis=1 if x.ndim == 4 else -1, epsilon=eps)
    layer.build(x.shape)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    return keras.ops.convert_to_numpy(layer(x, training=True))


@pytest.mark.parametrize("eps", EPS, ids=["eps1e-5", "eps1e-3"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_batch_norm_vs_keras_float32(case, eps):
    _, shape, means, stds = case
    x, gamma, beta = make_input(shape, means, stds, seed=zlib.crc32(case[0].encode()) % 1000 + 1, dtype=np.float32)
    ref = keras_batch_norm(x, gamma, beta, eps)
    assert ref.dtype == np.float32
    ours = initkit.batch_norm(x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64), eps=eps)
    tol = bn_tolerance(x, gamma, beta, axes_of(x), eps, U32)
    assert_within(ours, ref, tol, f"batch_norm vs keras float32 {shape} eps={eps}")


def test_batch_norm_keeps_float32():
    """A float32 input may give a float32 result (the contract asks for a float ndarray)."""
    x, gamma, beta = make_input((32, 3), [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], seed=3)
    y = initkit.batch_norm(x, gamma, beta)
    assert np.issubdtype(y.dtype, np.floating) and y.shape == x.shape


def test_keras_tolerance_is_sharp_enough():
    """The float32 bound must not hide the mistakes it is there to catch: the unbiased
    variance and Keras' default eps (1e-3 instead of 1e-5) both exceed it."""
    for _, shape, means, stds in CASES:
        x, gamma, beta = make_input(shape, means, stds, seed=5, dtype=np.float32)
        x64, g64, b64 = x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64)
        tol = bn_tolerance(x, gamma, beta, axes_of(x), 1e-5, U32)
        right = initkit.batch_norm(x64, g64, b64, eps=1e-5)
        axes = axes_of(x)
        n = x.size // x.shape[1]
        mean = x64.mean(axis=axes, keepdims=True)
        unbiased = x64.var(axis=axes, ddof=1, keepdims=True)
        bshape = mean.shape
        wrong_var = g64.reshape(bshape) * (x64 - mean) / np.sqrt(unbiased + 1e-5) + b64.reshape(bshape)
        assert (np.abs(wrong_var - right) > tol).any(), f"{shape}: unbiased variance (n={n}) not caught"
        wrong_eps = initkit.batch_norm(x64, g64, b64, eps=1e-3)
        if min(stds) <= 3.0:
            assert (np.abs(wrong_eps - right) > tol).any(), f"{shape}: eps 1e-3 not caught"


# ---------------------------------------------------------------- running statistics


def torch_bn_module(x, momentum=0.1, eps=1e-5):
    cls = torch.nn.BatchNorm1d if x.ndim == 2 else torch.nn.BatchNorm2d
    return cls(x.shape[1], eps=eps, momentum=momentum).double()


@pytest.mark.parametrize("steps", [1, 5], ids=["1step", "5steps"])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_running_stats_vs_torch(case, momentum, steps):
    _, shape, means, stds = case
    rng_seed = zlib.crc32(case[0].encode()) % 1000 + 7
    mod = torch_bn_module(np.empty(shape), momentum=momentum)
    with torch.no_grad():
        mod.weight.copy_(torch.linspace(0.5, 2.0, shape[1], dtype=torch.float64))
        mod.bias.copy_(torch.linspace(-1.0, 1.0, shape[1], dtype=torch.float64))
    gamma, beta = mod.weight.detach().numpy().copy(), mod.bias.detach().numpy().copy()
    running_mean = np.zeros(shape[1])
    running_var = np.ones(shape[1])
    mod.train()
    for step in range(steps):
        x, _, _ = make_input(shape, means, stds, seed=rng_seed + step, dtype=np.float64)
        y_ref = mod(torch.from_numpy(x)).detach().numpy()
        assert_within(initkit.batch_norm(x, gamma, beta, eps=1e-5), y_ref,
                      bn_tolerance(x, gamma, beta, axes_of(x), 1e-5, U64), f"training output, step {step}")
        out = initkit.update_running_stats(x, running_mean, running_var, momentum=momentum)
        assert isinstance(out, tuple) and len(out) == 2
        running_mean, running_var = (np.asarray(v, dtype=np.float64) for v in out)
        ref_mean, ref_var = mod.running_mean.numpy(), mod.running_var.numpy()
        np.testing.assert_allclose(running_mean, ref_mean, rtol=1e-12, atol=1e-12 * np.abs(means).max(),
                                   err_msg=f"running_mean after step {step + 1}")
        np.testing.assert_allclose(running_var, ref_var, rtol=1e-12, atol=0,
                                   err_msg=f"running_var after step {step + 1} (torch's is unbiased)")
    # eval mode: the running statistics normalise
    mod.eval()
    x, _, _ = make_input(shape, means, stds, seed=rng_seed + 100, dtype=np.float64)
    y_ref = mod(torch.from_numpy(x)).detach().numpy()
    y = initkit.batch_norm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5)
    scale = np.abs(gamma).reshape((1, -1) + (1,) * (x.ndim - 2))
    var_b = np.asarray(running_var).reshape(scale.shape)
    mean_b = np.asarray(running_mean).reshape(scale.shape)
    tol = 16 * U64 * (scale * (np.abs(x) + np.abs(mean_b)) / np.sqrt(var_b + 1e-5) + np.abs(y_ref) + 1)
    assert_within(y, y_ref, tol, "eval-mode output vs batch_norm_inference")


def test_running_stats_inputs_not_modified():
    x, _, _ = make_input((32, 3), [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], seed=1, dtype=np.float64)
    rm, rv = np.array([0.5, 0.5, 0.5]), np.array([2.0, 2.0, 2.0])
    rm0, rv0 = rm.copy(), rv.copy()
    initkit.update_running_stats(x, rm, rv)
    assert np.array_equal(rm, rm0) and np.array_equal(rv, rv0)
