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

DETERMINISTIC = ("var_of_product", "compute_fans", "calculate_gain", "batch_norm")


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
@pytest.mark.parametrize("target", ("var_of_product", "calculate_gain"))
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


def test_a_correct_answer_right_to_float32_precision_passes_whatever_dtype_it_returns():
    for key in ("batch_norm/bn_float32_float64_out", "var_of_product/vop_float32", "calculate_gain/gain_float32"):
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
