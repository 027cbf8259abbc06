"""Unit tests of initkit's NumPy track that need no framework: docstring examples, the
error contract (ValueError naming the value and the rule), RNG discipline, exact identities.
Statistical parity with PyTorch and Keras lives in test_parity_*.py."""

import doctest
import importlib
import math

import numpy as np
import pytest
from scipy import stats

import initkit
from initkit.orthogonal import haar_orthogonal
from initkit.variance_scaling import TRUNCATED_STD_2SIGMA

NUMPY_MODULES = ["variance", "propagation", "fans", "gain", "xavier", "kaiming", "truncated",
                 "variance_scaling", "orthogonal", "batchnorm"]


@pytest.mark.parametrize("name", NUMPY_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"initkit.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0, f"initkit.{name} has no docstring example"
    assert result.failed == 0


@pytest.mark.parametrize("name", initkit.__all__)
def test_every_public_function_documents_a_formula_and_an_example(name):
    doc = getattr(initkit, name).__doc__
    assert doc and "Example" in doc and ("math" in doc or "=" in doc), name


RNG = np.random.default_rng(0)
BAD_CALLS = [
    (initkit.compute_fans, ((3,),), {}, "at least 2 dimensions", "(3,)"),
    (initkit.compute_fans, ((3, 4),), {"layout": "tf"}, "layout must be 'torch' or 'keras'", "'tf'"),
    (initkit.compute_fans, ((3, -1),), {}, "non-negative ints", "-1"),
    (initkit.compute_fans, ((3, 2.5),), {}, "non-negative ints", "2.5"),
    (initkit.calculate_gain, ("Relu",), {}, "nonlinearity must be one of", "'Relu'"),
    (initkit.calculate_gain, ("leaky_relu", True), {}, "not a bool", "True"),
    (initkit.calculate_gain, ("leaky_relu", "0.2"), {}, "int or float", "'0.2'"),
    (initkit.kaiming_uniform, ((4, 3),), {"mode": "fanin"}, "mode must be 'fan_in' or 'fan_out'", "'fanin'"),
    (initkit.kaiming_normal, ((4, 3),), {"nonlinearity": "gelu"}, "nonlinearity must be one of", "'gelu'"),
    (initkit.xavier_uniform, ((4, 3),), {"rng": 0}, "numpy.random.Generator", "int"),
    (initkit.xavier_normal, ((4,),), {}, "at least 2 dimensions", "(4,)"),
    (initkit.orthogonal, ((4,),), {}, "at least 2 dimensions", "(4,)"),
    (initkit.truncated_normal, ((4,),), {"a": 1.0, "b": -1.0}, "a < b", "a=1.0"),
    (initkit.truncated_normal, ((4,),), {"std": 0.0}, "std must be > 0", "0.0"),
    (initkit.truncated_normal, ((4,),), {"a": 1.0, "b": 1.0}, "a < b", "b=1.0"),
    (initkit.truncated_normal, ((4,),), {"a": 50.0, "b": 60.0}, "it lies too far in the tail", "60.0"),
    (initkit.xavier_uniform, ((4, 3),), {"gain": "2"}, "gain must be a finite real number", "'2'"),
    (initkit.xavier_normal, ((4, 3),), {"gain": float("nan")}, "gain must be a finite real number", "nan"),
    (initkit.orthogonal, ((4, 3),), {"gain": None}, "gain must be a finite real number", "None"),
    (initkit.truncated_normal, ((4,),), {"mean": "0"}, "mean must be a finite real number", "'0'"),
    (initkit.truncated_normal, ((4,),), {"a": None}, "a must be a finite real number", "None"),
    (initkit.truncated_normal, ((4,),), {"b": float("inf")}, "b must be a finite real number", "inf"),
    (initkit.truncated_normal, ((4,),), {"a": 50.0, "b": 60.0}, "holds no probability", "50.0"),
    (initkit.variance_scaling, ((4, 3),), {"mode": "fan_mean"}, "'fan_in', 'fan_out' or 'fan_avg'", "'fan_mean'"),
    (initkit.variance_scaling, ((4, 3),), {"distribution": "gaussian"}, "distribution must be", "'gaussian'"),
    (initkit.variance_scaling, ((4, 3),), {"scale": 0.0}, "scale must be > 0", "0.0"),
    (initkit.variance_scaling, ((4, 3),), {"scale": -1}, "scale must be > 0", "-1"),
    (initkit.var_of_product, (0.0, -1.0, 0.0, 1.0), {}, "var_x must be >= 0", "-1.0"),
    (initkit.batch_norm, (np.ones((2, 3, 4)), np.ones(3), np.zeros(3)), {}, "2-D (N, C) or 4-D", "(2, 3, 4)"),
    (initkit.batch_norm, (np.ones((2, 3)), np.ones(4), np.zeros(3)), {}, "gamma must have shape (3,)", "(4,)"),
    (initkit.update_running_stats, (np.ones((1, 3)), np.zeros(3), np.ones(3)), {}, "at least 2 values", "(1, 3)"),
    (initkit.update_running_stats, (np.ones((2, 3)), np.zeros(2), np.ones(3)), {}, "running_mean must have shape (3,)", "(2,)"),
]


@pytest.mark.parametrize("fn, args, kwargs, rule, value", BAD_CALLS,
                         ids=[f"{c[0].__name__}-{c[3][:20]}" for c in BAD_CALLS])
def test_bad_input_raises_value_error_naming_rule_and_value(fn, args, kwargs, rule, value):
    with pytest.raises(ValueError) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert rule in message and value in message, message


RANDOM_FUNCTIONS = [
    (initkit.xavier_uniform, (5, 3, 2, 2)),
    (initkit.xavier_normal, (5, 3)),
    (initkit.kaiming_uniform, (5, 3, 3)),
    (initkit.kaiming_normal, (6, 4)),
    (initkit.truncated_normal, (7, 2)),
    (initkit.variance_scaling, (3, 3, 4, 5)),
    (initkit.orthogonal, (4, 2, 3)),
]


@pytest.mark.parametrize("fn, shape", RANDOM_FUNCTIONS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_random_functions_draw_only_from_rng(fn, shape):
    state = np.random.get_state()
    first = fn(shape, rng=np.random.default_rng(7))
    again = fn(shape, rng=np.random.default_rng(7))
    other = fn(shape, rng=np.random.default_rng(8))
    assert first.shape == shape and first.dtype == np.float64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


@pytest.mark.parametrize("fn, shape", RANDOM_FUNCTIONS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_zero_size_shapes_give_empty_arrays(fn, shape):
    empty = (0,) + shape[1:]
    assert fn(empty, rng=np.random.default_rng(0)).shape == empty


def test_truncation_constant_is_the_std_of_the_standard_normal_cut_at_two():
    assert TRUNCATED_STD_2SIGMA == pytest.approx(stats.truncnorm.std(-2, 2), rel=1e-15)


@pytest.mark.parametrize("mean, std, a, b", [(0, 1, -2, 2), (1.5, 0.5, 2.0, 4.0), (0, 1, 6, 9),
                                              (0, 1, -9, -6), (3, 2, -1, 3),
                                              (0, 1, 9, 12), (1, 0.5, 6, 8)])  # far right tails: Φ(9) rounds to 1
def test_truncated_normal_matches_scipy_truncnorm_in_the_tails_too(mean, std, a, b):
    """One-sample KS against the exact CDF; p > 1e-6 keeps the false-alarm rate at 1e-6."""
    x = initkit.truncated_normal((20_000,), mean, std, a, b, rng=np.random.default_rng(1))
    assert x.min() >= a and x.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(x, law.cdf).pvalue > 1e-6


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3, 3), (2, 30)])
@pytest.mark.parametrize("gain", [1.0, 0.5, 3.0])
def test_orthogonal_is_gain_times_an_isometry_in_the_right_orientation(shape, gain):
    w = initkit.orthogonal(shape, gain=gain, rng=np.random.default_rng(3))
    m = w.reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), rtol=0, atol=1e-10 * gain**2)


def test_var_of_product_reduces_to_product_of_variances_for_zero_means():
    assert initkit.var_of_product(0.0, 2.0, 0.0, 3.0) == 6.0
    assert initkit.var_of_product(1.0, 2.0, -3.0, 4.0) == 2 * 4 + 2 * 9 + 4 * 1


def test_var_of_product_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, math.sqrt(2.0), 2_000_000)
    y = rng.uniform(-1.0, 5.0, 2_000_000)  # mean 2, variance 3
    exact = initkit.var_of_product(1.0, 2.0, 2.0, 3.0)
    # Relative error of a sample variance ≈ sqrt((kurtosis - 1)/n); 6 such errors are ~5e-3.
    assert np.var(x * y) == pytest.approx(exact, rel=5e-3)


@pytest.mark.parametrize("shape, layout, expected", [
    ((64, 3, 5, 5), "torch", (75, 1600)),
    ((5, 5, 3, 64), "keras", (75, 1600)),
    ((), "keras", (1, 1)),
    ((7,), "keras", (7, 7)),
    ((10, 20), "torch", (20, 10)),
    ((10, 20), "keras", (10, 20)),
])
def test_compute_fans_examples_worked_by_hand(shape, layout, expected):
    fans = initkit.compute_fans(shape, layout)
    assert fans == expected and all(type(f) is int for f in fans)


def test_batch_norm_normalizes_each_channel_with_the_biased_variance():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, (8, 4, 5, 5))
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    y = initkit.batch_norm(x, gamma, beta, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), gamma, rtol=1e-12)


def test_batch_norm_keeps_float32_and_returns_float64_for_ints():
    x32 = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert initkit.batch_norm(x32, np.ones(2), np.zeros(2)).dtype == np.float32
    assert initkit.batch_norm(x32.astype(int), np.ones(2), np.zeros(2)).dtype == np.float64


def test_running_stats_converge_to_the_population_statistics():
    rng = np.random.default_rng(4)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(200):
        mean, var = initkit.update_running_stats(rng.normal(2.0, 3.0, (64, 3)), mean, var)
    # An EMA with m = 0.1 averages about (2 - m)/m = 19 batches of 64 = 1216 values, so the
    # running mean has sd 3/√1216 ≈ 0.086 and the running variance sd 9·√(2/1216) ≈ 0.37:
    # the bounds below are ~3.5 sd (the seed is fixed, so the verdict cannot flip).
    np.testing.assert_allclose(mean, 2.0, atol=0.3)
    np.testing.assert_allclose(var, 9.0, rtol=0.15)
    x = rng.normal(2.0, 3.0, (5, 3))
    y = initkit.batch_norm_inference(x, np.ones(3), np.zeros(3), mean, var, eps=0.0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -0.5, -0.5 + 1e-14), (0.0, 3.0, 1.0, 1.0 + 1e-15)])
def test_truncated_normal_stays_in_a_needle_thin_interval(mean, std, a, b):
    """On [a, a + 1e-14] μ + σ·Φ⁻¹(u) rounds outside [a, b] on both sides for hundreds of the
    20,000 draws: the final clip must hold both ends."""
    x = initkit.truncated_normal((20_000,), mean, std, a, b, rng=np.random.default_rng(0))
    assert x.min() >= a and x.max() <= b


def test_std_helpers_use_the_documented_defaults_and_zero_fans():
    from initkit.kaiming import kaiming_std
    from initkit.xavier import xavier_std

    assert xavier_std((30, 10)) == pytest.approx(math.sqrt(2 / 40), rel=1e-15)         # gain 1
    assert kaiming_std((30, 10)) == pytest.approx(math.sqrt(2) / math.sqrt(10), rel=1e-15)  # leaky_relu, a=0, fan_in
    assert xavier_std((1, 0)) == pytest.approx(math.sqrt(2), rel=1e-15)                  # fan_in + fan_out = 1
    assert kaiming_std((0, 1), mode="fan_in") == pytest.approx(math.sqrt(2), rel=1e-15)  # fan = 1
    assert xavier_std((0, 0)) == 0.0 and kaiming_std((3, 0)) == 0.0                       # no fan: std 0, no division


@pytest.mark.parametrize("shape", [(1, 1), (4, 0), (0, 4), (3, 0, 2)])
def test_orthogonal_of_degenerate_shapes(shape):
    w = initkit.orthogonal(shape, gain=2.0, rng=np.random.default_rng(0))
    assert w.shape == shape
    if w.size:
        assert abs(w.item()) == pytest.approx(2.0, rel=1e-15)  # a 1×1 orthogonal matrix is ±1


def test_haar_orthogonal_has_no_sign_bias_at_any_diagonal_position():
    """Haar on O(n) is invariant under flipping any column, so each diagonal entry is positive
    with probability ½ and det W > 0 with probability ½ (square shapes). Over N = 2,000
    independent draws each count is Bin(N, ½); 8 counts share α = 1e-7 (Bonferroni, two-sided
    1.25e-8 each): |k − N/2| ≤ z·√N/2 with z = Φ⁻¹(1 − 6.25e-9) ≈ 5.69, i.e. ≤ 127. A sign
    fix on the wrong condition (flipping columns with 0 ≤ R_jj < 1) gives 0.16 at 2×2's
    second position and 0.25 at 4×4's last."""
    n = 2000
    z = stats.norm.isf(1e-7 / 8 / 2)
    slack = z * math.sqrt(n) / 2
    rng = np.random.default_rng(20261207)
    for size in (2, 4):
        draws = [haar_orthogonal(size, size, rng) for _ in range(n)]
        positive = (np.array([np.diag(w) for w in draws]) > 0).sum(axis=0)
        assert np.all(np.abs(positive - n / 2) <= slack), (size, positive, slack)
        det_positive = sum(np.linalg.det(w) > 0 for w in draws)
        assert abs(det_positive - n / 2) <= slack, (size, det_positive, slack)


@pytest.mark.parametrize("call, message", [
    (lambda: initkit.xavier_uniform((4,)), "shape must have at least 2 dimensions; received (4,) with 1"),
    (lambda: initkit.kaiming_uniform((4,)), "shape must have at least 2 dimensions; received (4,) with 1"),
    (lambda: initkit.truncated_normal((4,), a=50.0, b=60.0),
     "[a, b] = [50.0, 60.0] holds no probability under N(0.0, 1.0²): it lies too far in the tail"),
    (lambda: initkit.calculate_gain("Relu"),
     f"nonlinearity must be one of {', '.join(initkit.gain.NONLINEARITIES)}; received 'Relu'"),
    (lambda: initkit.calculate_gain("leaky_relu", "0.2"),
     "param (the negative slope of leaky_relu) must be an int or float, not a bool; received '0.2'"),
    (lambda: initkit.compute_fans((4,), layout="torch"),
     "fans need at least 2 dimensions in torch layout (out, in, *kernel); received shape (4,)"),
], ids=["xavier-1d", "kaiming-1d", "truncated-tail", "gain-name", "gain-param", "fans-torch-1d"])
def test_messages_in_full(call, message):
    """The whole message, word for word: the rule-and-value test above checks fragments."""
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


def test_uniform_law_names_its_interval():
    from initkit.checks import _laws

    assert _laws.uniform(0.5).name == "U(-0.5, 0.5)"
    assert _laws.uniform(1.0, center=2.0).name == "U(1, 3)"


# --- bad input: the value and the rule, word for word (mutation survivors, issue 21) -----------

@pytest.mark.parametrize("call, message", [
    (lambda: initkit.compute_fans((5,)),
     "fans need at least 2 dimensions in torch layout (out, in, *kernel); received shape (5,)"),
    (lambda: initkit.calculate_gain("leaky_relu", "0.1"),
     "param (the negative slope of leaky_relu) must be an int or float, not a bool; received '0.1'"),
    (lambda: initkit.calculate_gain("relu6"),
     "nonlinearity must be one of linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, "
     "conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu; received 'relu6'"),
    *[(lambda f=f: f((5,)), "shape must have at least 2 dimensions; received (5,) with 1")
      for f in (initkit.xavier_uniform, initkit.xavier_normal, initkit.kaiming_uniform, initkit.kaiming_normal)],
    (lambda: initkit.truncated_normal((3,), a=40, b=41),
     "[a, b] = [40.0, 41.0] holds no probability under N(0.0, 1.0²): it lies too far in the tail"),
])
def test_bad_input_is_refused_with_the_value_and_the_rule(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message


def test_orthogonal_of_an_empty_shape_is_empty_and_of_one_by_one_is_plus_or_minus_gain():
    """O(1) = {+1, −1}: Haar is a fair sign, times the gain."""
    assert initkit.orthogonal((0, 5)).shape == (0, 5) and initkit.orthogonal((4, 0)).shape == (4, 0)
    values = {float(initkit.orthogonal((1, 1), gain=2.0, rng=np.random.default_rng(s))[0, 0]) for s in range(40)}
    assert values == {2.0, -2.0}
