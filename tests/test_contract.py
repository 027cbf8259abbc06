"""The deterministic checks try the contract's whole input space and enforce its return
types (COURSE.md §5), with tolerances a correct float32 computation meets (issue 20)."""

import decimal
import fractions
import math

import numpy as np
import pytest

from initkit import checks
from initkit.checks import _contract as c
from initkit.checks import _deterministic as d
from initkit.checks._engine import Context
from initkit.gain import NONLINEARITIES
from initkit.mistakes import CORRECT, MISTAKES, reference
from verdicts import failing_aspects

DETERMINISTIC = ("var_of_product", "relu_moments", "preactivation_variance", "predict_std", "compute_fans",
                 "calculate_gain", "batch_norm")


# --- input spaces ---------------------------------------------------------------------------

def test_near_misses_hold_no_valid_name_and_every_family():
    misses = c.near_misses(NONLINEARITIES, np.random.default_rng(0))
    assert not set(misses) & set(NONLINEARITIES)
    for family in ("conv", "conv4d", "prelu", "relu6", "identity", "ReLU", "RELU", " relu", "tanh\n",
                   "leaky-relu", "leakyrelu", "elu", "sigm", "", "conv_transpose"):
        assert family in misses, family
    assert len(misses) == len(set(misses))


def test_near_misses_draw_other_edits_at_other_seeds():
    first, second = (set(c.near_misses(NONLINEARITIES, np.random.default_rng(s))) for s in (0, 1))
    assert first != second


def test_layouts_are_what_they_say():
    x = np.arange(24.0).reshape(2, 3, 4)
    for dtype, order in c.LAYOUTS:
        a = c.laid_out(x, dtype, order)
        assert a.dtype == dtype and np.array_equal(a, x)
        assert {"C": a.flags.c_contiguous, "F": a.flags.f_contiguous,
                "strided": not (a.flags.c_contiguous or a.flags.f_contiguous)}[order]


def test_the_contract_tables_agree_with_initkits_own_calculate_gain():
    for slope in c.NOT_SLOPES:
        with pytest.raises(ValueError):
            __import__("initkit").calculate_gain("leaky_relu", slope)
    for slope in c.real_slopes(np.random.default_rng(0)):
        __import__("initkit").calculate_gain("leaky_relu", slope)


# --- return types ---------------------------------------------------------------------------

NOT_REAL = [(fractions.Fraction(5, 3), "a fractions.Fraction"), (decimal.Decimal("1.5"), "a decimal.Decimal"),
            (np.array(1.5), "a 0-d numpy array"), (True, "a bool"), (np.bool_(True), "a numpy.bool"),
            (1.5 + 0j, "a complex"), ("1.5", "a str"), ([1.5], "a list")]


@pytest.mark.parametrize("value, named", NOT_REAL, ids=[n for _, n in NOT_REAL])
@pytest.mark.parametrize("target", ("var_of_product", "calculate_gain", "preactivation_variance"))
def test_interface_refuses_what_is_not_a_real_number_and_names_its_type(target, value, named):
    message = failing_aspects(getattr(checks, f"check_{target}"), lambda *a, **k: value, only=("interface",))["interface"]
    assert f"returned {value!r}, {named};" in message, message


@pytest.mark.parametrize("value", [1, 2.5, np.float32(2.5), np.float64(2.5), np.int64(3), np.float16(2.5)],
                         ids=lambda v: type(v).__name__)
def test_interface_accepts_every_real_number_of_the_contract(value):
    assert failing_aspects(checks.check_var_of_product, lambda *a: value, only=("interface",)) == {}


@pytest.mark.parametrize("value, named", [([3, 4], "a list"), ((3.0, 4.0), "a tuple holding a float"),
                                          ((3, 4, 1), "a tuple of length 3"), ((True, 4), "a tuple holding a bool"),
                                          (np.array([3, 4]), "a numpy.ndarray")])
def test_fans_interface_wants_a_tuple_of_two_integers(value, named):
    message = failing_aspects(checks.check_compute_fans, lambda shape, layout="torch": value,
                              only=("interface",))["interface"]
    assert named in message, message


def test_fans_values_judge_the_numbers_whatever_their_type():
    def as_floats(shape, layout="torch"):
        return tuple(float(v) for v in reference("compute_fans")(shape, layout))

    assert set(failing_aspects(checks.check_compute_fans, as_floats)) == {"interface"}


def test_batch_norm_output_must_be_float32_or_float64():
    def in_float16(x, gamma, beta, eps=1e-5):
        return reference("batch_norm")(x, gamma, beta, eps).astype(np.float16)

    assert "an array of dtype float16" in failing_aspects(checks.check_batch_norm, in_float16)["interface"]


@pytest.mark.parametrize("value, named", [([0.4, 0.5], "a list"), (np.array([0.4, 0.5]), "a numpy.ndarray"),
                                          ((0.4, fractions.Fraction(1, 2)), "a tuple holding a fractions.Fraction"),
                                          ((0.4, 0.5, 0.1), "a tuple of length 3"), (0.4, "a float"),
                                          ((True, 0.5), "a tuple holding a bool")])
def test_relu_moments_interface_wants_a_tuple_of_two_real_numbers(value, named):
    message = failing_aspects(checks.check_relu_moments, lambda mean, std: value, only=("interface",))["interface"]
    assert f"{named}" in message and "expected a tuple of two real numbers" in message, message


@pytest.mark.parametrize("convert, named", [(list, "a list"), (lambda a: a.astype(np.float16), "dtype float16"),
                                            (lambda a: a.reshape(-1, 1), "shape (5, 1)"),
                                            (lambda a: np.append(1.0, a), "shape (6,)"),
                                            (lambda a: a.astype(np.int64), "dtype int64")])
def test_predict_std_interface_wants_a_float_array_of_shape_depth(convert, named):
    def converted(depth, width, weight_std, activation):
        return convert(reference("predict_std")(depth, width, weight_std, activation))

    message = failing_aspects(checks.check_predict_std, converted, only=("interface",))["interface"]
    assert named in message, message


def test_values_judge_the_numbers_whatever_their_type():
    def as_list(depth, width, weight_std, activation):
        return list(reference("predict_std")(depth, width, weight_std, activation))

    def as_list_pair(mean, std):
        return list(reference("relu_moments")(mean, std))

    assert set(failing_aspects(checks.check_predict_std, as_list)) == {"interface"}
    assert set(failing_aspects(checks.check_relu_moments, as_list_pair)) == {"interface"}


@pytest.mark.parametrize("n", c.NOT_COUNTS, ids=repr)
def test_preactivation_variance_refuses_every_n_that_is_not_a_count(n):
    def accepts_this_n(n_, var_w, mean_x, var_x):
        if n_ is n or (type(n_) is type(n) and n_ == n):
            return 1.0
        return reference("preactivation_variance")(n_, var_w, mean_x, var_x)

    message = failing_aspects(checks.check_preactivation_variance, accepts_this_n)
    assert set(message) == {"errors"} and "n counts inputs" in message["errors"], message


@pytest.mark.parametrize("name", ["ReLU", "Tanh", "relu6", "leaky_relu", "sigmoid", " relu", "tanh\n", "LINEAR",
                                  "prelu", "lin", "", None])
def test_predict_std_refuses_every_near_miss(name):
    def accepts_this_name(depth, width, weight_std, activation):
        if activation == name:
            return reference("predict_std")(depth, width, weight_std, "relu")
        return reference("predict_std")(depth, width, weight_std, activation)

    assert set(failing_aspects(checks.check_predict_std, accepts_this_name)) == {"errors"}


def test_float32_overflow_of_n01_weights_is_named():
    message = failing_aspects(checks.check_predict_std, MISTAKES["predict_std/ps_float32_storage"].fn)["values"]
    assert "beyond float32's largest number" in message and "in your float32 array" in message, message


# --- every input untouched on every layout ---------------------------------------------------

@pytest.mark.parametrize("ndim", (2, 4))
@pytest.mark.parametrize("layout", c.LAYOUTS, ids=lambda lay: f"{lay[0]}-{lay[1]}")
@pytest.mark.parametrize("name", ("x", "gamma", "beta"))
def test_an_edit_of_any_input_on_any_single_layout_fails_the_interface(name, layout, ndim):
    dtype, order = layout

    def edits_on_one_layout(x, gamma, beta, eps=1e-5):
        out = reference("batch_norm")(x, gamma, beta, eps)
        arrays = {"x": x, "gamma": gamma, "beta": beta}
        if x.ndim == ndim and x.dtype == dtype and c.describe_layout(x) == c.describe_layout(c.laid_out(x, dtype, order)):
            arrays[name][...] = 0.0
        return out

    message = failing_aspects(checks.check_batch_norm, edits_on_one_layout)
    assert set(message) == {"interface"}
    assert f"changed its input {name} in place" in message["interface"]


# --- tolerances: a correct float32 computation meets them, and they are not loose ------------

def _vop_float32_forms(mx, vx, my, vy):
    mx, vx, my, vy = (np.float32(v) for v in (mx, vx, my, vy))
    return [vx * vy + vx * my * my + vy * mx * mx, (vx + mx * mx) * (vy + my * my) - (mx * my) ** 2]


def test_float32_var_of_product_stays_within_its_tolerance():
    worst = 0.0
    for seed in range(200):
        args_list = d._vop_inputs(Context("var_of_product", seed, {}), 12)
        r = np.random.default_rng(seed)
        args_list += [(float(r.normal(0, 30)), float(r.uniform(0, 1e-2)), float(r.normal(0, 30)),
                       float(r.uniform(0, 1e-2)))]  # means ≫ variances: the subtraction cancels
        for args in args_list:
            exact = tuple(float(a) for a in args)
            tol = d._vop_tolerance(*exact)
            for value in _vop_float32_forms(*exact):
                error = abs(float(value) - __import__("initkit").var_of_product(*exact))
                worst = max(worst, error / tol if tol else 0.0)
    assert worst <= 1.0, worst


def test_float32_gain_stays_within_its_tolerance():
    for slope in c.real_slopes(np.random.default_rng(3)) + list(np.random.default_rng(4).uniform(-10, 10, 500)):
        exact = math.sqrt(2.0 / (1.0 + float(slope) ** 2))
        s = np.float32(slope)
        for value in (np.sqrt(np.float32(2) / (np.float32(1) + s * s)),
                      np.float32(np.sqrt(np.float32(2))) / np.sqrt(np.float32(1) + s * s)):
            assert abs(float(value) - exact) <= d._gain_tolerance(exact), slope


def _bn_float32(x, gamma, beta, eps, one_pass):
    x32 = x.astype(np.float32)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    mean = x32.mean(axes, keepdims=True)
    var = (x32 * x32).mean(axes, keepdims=True) - mean * mean if one_pass else x32.var(axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    z = (x32 - mean) / np.sqrt(var + np.float32(eps))
    return gamma.reshape(shape) * z + beta.reshape(shape)


@pytest.mark.parametrize("one_pass", (True, False), ids=("one-pass", "two-pass"))
def test_float32_batch_norm_stays_within_its_tolerance_returned_as_float64(one_pass):
    worst = 0.0
    for seed in range(100):
        ctx = Context("batch_norm", seed, {})
        for shape, mean_range in [((64, 8), 3.0), ((4, 5, 5, 6), 2.0), ((16, 3), 10.0)]:
            x, gamma, beta = d._bn_source(ctx, seed % 7, shape, mean_range=mean_range)
            out = _bn_float32(x, gamma, beta, 1e-5, one_pass)
            assert out.dtype == np.float64
            expected = __import__("initkit").batch_norm(x, gamma, beta)
            g = gamma.reshape((1, -1) + (1,) * (x.ndim - 2))
            worst = max(worst, float(np.max(np.abs(out - expected) / np.abs(g))) / d._bn_tolerance(x, gamma, beta))
    assert worst <= 1.0, worst


def _relu_float32_forms(mean, std):
    """Correct float32 computations of (E relu(h), E relu(h)²): erf, erfc, factored, D + E²."""
    from scipy.special import erf, erfc

    m, s = np.float32(mean), np.float32(std)
    a = m / s
    pdf = np.exp(-a * a / np.float32(2)) / np.float32(math.sqrt(2 * math.pi))
    cdfs = [np.float32(0.5) * (np.float32(1) + erf(a / np.float32(math.sqrt(2)))),
            np.float32(0.5) * erfc(-a / np.float32(math.sqrt(2)))]
    out = []
    for cdf in cdfs:
        first = m * cdf + s * pdf
        out.append((first, (m * m + s * s) * cdf + m * s * pdf))
        out.append((s * (a * cdf + pdf), s * s * ((np.float32(1) + a * a) * cdf + a * pdf)))
        variance = s * s * (cdf * (np.float32(1) + a * a) + a * pdf) - first * first
        out.append((first, variance + first * first))
    return out


def test_float32_relu_moments_stay_within_their_tolerance():
    worst = 0.0
    for seed in range(200):
        cases = d._rm_inputs(Context("relu_moments", seed, {}), 12)
        r = np.random.default_rng(seed)
        cases += [(float(a * s), float(s)) for a, s in zip(r.uniform(-6, 6, 5), r.uniform(1e-3, 1e3, 5))]
        for args in cases:
            mean, std = float(args[0]), float(args[1])
            right = __import__("initkit").relu_moments(mean, std)
            tols = d._rm_tolerance(mean, std)
            for form in _relu_float32_forms(mean, std):
                for got, want, tol in zip(form, right, tols):
                    worst = max(worst, abs(float(got) - want) / tol)
    assert worst <= 1.0, worst


def test_float32_preactivation_variance_stays_within_its_tolerance():
    worst = 0.0
    for seed in range(200):
        for args in d._pv_inputs(Context("preactivation_variance", seed, {}), 12):
            exact = (int(args[0]),) + tuple(float(a) for a in args[1:])
            n, vw, m, vx = (np.float32(a) for a in exact)
            right = __import__("initkit").preactivation_variance(*exact)
            tol = d._pv_tolerance(*exact)
            for value in (n * vw * (vx + m * m), n * vw * vx + n * vw * m * m, (n * vw) * vx + (n * vw) * (m * m)):
                worst = max(worst, abs(float(value) - right) / tol if tol else float(value != right))
    assert worst <= 1.0, worst


def _predict_std_float32(depth, width, weight_std, activation, summation):
    """predict_std wholly in float32: the grid, the weights, the recursion; tanh's sums by
    np.dot (BLAS) or np.sum (pairwise)."""
    t = np.linspace(-10, 10, 4001, dtype=np.float32)
    p = np.exp(-t * t / np.float32(2))
    p /= p.sum()
    factor = np.float32(width) * np.float32(weight_std) ** 2
    second, out = np.float32(1), []
    for _ in range(depth):
        var_z = factor * second
        if activation == "linear":
            mean, second = np.float32(0), var_z
        elif activation == "relu":
            mean, second = np.sqrt(var_z / np.float32(2 * math.pi)), var_z / np.float32(2)
        else:
            y = np.tanh(np.sqrt(var_z) * t)
            mean, second = (p @ y, p @ (y * y)) if summation == "dot" else (np.sum(p * y), np.sum(p * y * y))
        out.append(np.sqrt(second - mean * mean))
    return np.array(out, dtype=np.float32)


@pytest.mark.parametrize("summation", ("dot", "sum"))
def test_float32_predict_std_over_100_layers_stays_within_its_tolerance(summation):
    """Every network the checks try whose numbers fit float32 (not N(0, 1) weights), at seeds 0–19."""
    worst, tried = 0.0, 0
    for seed in range(20):
        ctx = Context("predict_std", seed, {})
        r13, r14 = ctx.rng(13), ctx.rng(14)
        width = int(r13.choice([64, 128, 256]))
        cases = [(100, 256, 1 / 16, "relu"), (50, width, math.sqrt(2 / width), "relu"),
                 (int(r13.integers(10, 40)), width, float(r13.uniform(0.5, 2.5)) / math.sqrt(width), "linear"),
                 (100, 256, 1 / 16, "tanh"), (100, 256, (5 / 3) / 16, "tanh"), (100, 256, 2 / 16, "tanh"),
                 (100, 256, 1 / 16, "linear"), (100, 128, 1.2 / math.sqrt(128), "relu")]
        w14 = int(r14.choice([64, 128, 256]))
        cases.append((int(r14.integers(10, 60)), w14, float(r14.uniform(0.5, 2.0)) / math.sqrt(w14), "tanh"))
        for args in cases:
            assert not d._beyond_float32(*args)
            got = _predict_std_float32(*args, summation).astype(np.float64)
            right = __import__("initkit").predict_std(*args)
            worst = max(worst, float(np.max(np.abs(got - right) / right / d._ps_tolerances(args[0], args[3]))))
            tried += 1
    assert tried and worst <= 1.0, worst


def test_a_correct_answer_right_to_float32_precision_passes_whatever_dtype_it_returns():
    for key in ("batch_norm/bn_float32_float64_out", "var_of_product/vop_float32", "calculate_gain/gain_float32",
                "relu_moments/relu_float32", "preactivation_variance/pv_float32", "predict_std/ps_float32_grid",
                "predict_std/ps_all_float32"):
        entry = CORRECT[key]
        assert failing_aspects(getattr(checks, f"check_{entry.target}"), entry.fn, 5) == {}, key


def test_a_rounded_value_is_told_it_was_rounded():
    message = failing_aspects(checks.check_calculate_gain,
                              lambda name, param=None: 1.6667 if name == "tanh" else reference("calculate_gain")(name, param),
                              only=("values",))["values"]
    assert "only 5 significant digits: do not round" in message, message


# --- diagnoses ------------------------------------------------------------------------------

def test_a_deliberate_value_error_on_nchw_gets_no_reshape_hint():
    message = failing_aspects(checks.check_batch_norm, MISTAKES["batch_norm/bn_2d_only"].fn)["arguments"]
    assert "reshape" not in message.split("Diagnosis:")[1], message


def test_a_broadcasting_error_on_nchw_still_gets_the_reshape_hint():
    def gamma_flat(x, gamma, beta, eps=1e-5):
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps) * gamma + beta

    message = failing_aspects(checks.check_batch_norm, gamma_flat)["arguments"]
    assert "reshape them to (1, C, 1, 1)" in message, message


@pytest.mark.parametrize("key, words", [
    ("calculate_gain/slope_default_keras", "0.2 is the default of Keras' LeakyReLU"),
    ("calculate_gain/slope_default_zero", "not 0"),
    ("batch_norm/bn_unbiased_nchw_only", "on NCHW input you divide by n − 1"),
    ("batch_norm/bn_reshapes_callers_gamma", "changed the shape of the caller's gamma"),
])
def test_new_mistakes_are_diagnosed_in_a_students_words(key, words):
    entry = MISTAKES[key]
    message = next(iter(failing_aspects(getattr(checks, f"check_{entry.target}"), entry.fn, first=True).values()))
    assert "Diagnosis:" in message and words in message, message


@pytest.mark.parametrize("key, words", [
    ("relu_moments/relu_std_abs", "relu_moments(0.0, -1.0) gave 0.3989, 0.5 where a ValueError"),
    ("relu_moments/relu_float_converted", "'2.0') gave 1.396, 4.161 where a ValueError"),
    ("relu_moments/relu_std_unchecked", "gave a ZeroDivisionError where a ValueError is right"),
    ("relu_moments/relu_as_list", "gave a list where"),
    ("preactivation_variance/pv_n_isinstance_int", "preactivation_variance(True, 0.25, 1.0, 1.0) gave 0.5"),
    ("preactivation_variance/pv_negative_variance", "preactivation_variance(16, -0.25, 1.0, 1.0) gave -8"),
    ("preactivation_variance/pv_fraction", "gave a fractions.Fraction"),
    ("preactivation_variance/pv_float16", "where 1.449 is right"),
    ("predict_std/ps_substring_match", "'prelu') gave an array"),
    ("predict_std/ps_case_insensitive", "'ReLU') gave an array"),
    ("predict_std/ps_with_input_layer", "gave an array of shape (21,)"),
])
def test_the_01_02_mistakes_are_diagnosed_with_the_input_that_broke_the_rule(key, words):
    entry = MISTAKES[key]
    message = next(iter(failing_aspects(getattr(checks, f"check_{entry.target}"), entry.fn, first=True).values()))
    assert "Diagnosis:" in message and words in message, message


# --- the catalogue at seeds 0–99 ----------------------------------------------------------------

ENTRIES = sorted(k for k, e in {**MISTAKES, **CORRECT}.items() if e.target in DETERMINISTIC and e.track == "numpy")


@pytest.mark.slow
@pytest.mark.parametrize("key", ENTRIES)
def test_deterministic_catalogue_verdicts_hold_at_seeds_0_to_99(key):
    entry = {**MISTAKES, **CORRECT}[key]
    check = getattr(checks, f"check_{entry.target}")
    wrong = {seed: sorted(failed) for seed in range(100)
             if set(failed := failing_aspects(check, entry.fn, seed)) != set(entry.fails)}
    assert not wrong, wrong
