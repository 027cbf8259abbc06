"""What a student reads: for catalogued mistakes, the aspect that fails, the *sub-test* that
fires in it and that sub-test's key words — not just the names of the failing aspects
(test_checks.py), and not just the diagnosis appended after it (test_diagnosis.py).

A check that reaches the same verdict through another sub-test (a one-sided sign test that
lets the KS test fail the matrix instead) changes the message and fails here."""

from __future__ import annotations

import re

import numpy as np
import pytest

from initkit import checks
from initkit.mistakes import MISTAKES
from verdicts import entry_failures, failing_aspects

# Sub-test messages of the random checks (initkit/checks/_random.py, _orthogonal.py).
SUPPORT = r"values outside the support on shape \(.*\): the target .* lies in \[.*\], yours reach \[.*\] \(\d\.\d{3}× the target\)"
SPREAD = (r"spread off on shape \(.*\): expected std [\d.e-]+, observed [\d.e-]+ \(\d\.\d{3}× the target\) "
          r"\(target .*; a correct function lands within \[[\d.e-]+, [\d.e-]+\] over \d+ samples\)")
FAMILY_KS = (r"wrong distribution family on shape \(.*\): after standardising \(subtract the mean, divide by the "
             r"std\) your samples' CDF is 0\.\d{3} away from the target's \(.*, standardised\); a correct "
             r"function stays below 0\.\d{3} over \d+ samples")
FAMILY_TAILS = (r"wrong distribution family on shape \(.*: standardised \(mean 0, std 1\) the target .* lies "
                r"within \[.*\], yours reach \[.*\] — tails where the target has none")

# The exact family and independence sub-tests (issue 17).
NORMAL_TAILS = (r"wrong distribution family on shape \(.*: a normal puts 1\.24% of its values beyond ±2\.5 std of "
                r"its mean \(a correct function has \d+ to \d+ of \d+ there\), yours has 0 and stops at ±2\.2\d std: "
                r"is your normal truncated \(or clipped\)\?")
CLIPPED = (r"values repeat on shape \(.*: \d+ of your \d+ samples equal [-\d.e]+ exactly, where a correct "
           r"function repeats no value \d+ times \(even in float32\)\. It is your (smallest|largest) value: clipping")
REUSED = (r"values are not independent on shape \(.*\): \d+ of your \d+ samples repeat another one \(up to sign\), "
          r"where a correct function repeats fewer than \d+ \(float32 rounding included\) — ")
ORDER = (r"values are not independent of their position on shape \(.*\): along axis \d of the array, in \d+ pairs "
         r"of neighbouring entries \(2j, 2j\+1\) the second (value|\|x − mean\|) is the larger in \d+; for "
         r"independent entries that is a fair coin \(a correct function lands in \[\d+, \d+\]\) — are your ")

SUB_TESTS = {
    "variance_scaling/vs_substring_truncated": ("arguments", NORMAL_TAILS),
    "kaiming_normal/kn_truncated_rescaled": ("distribution", FAMILY_KS + r"\. Your values stop at ±2\.2\d std, "
                                             r"where a normal puts 1\.24% .* is your normal truncated \(or clipped\)\?"),
    "variance_scaling/vs_untruncated_clipped": ("arguments", CLIPPED),
    "xavier_uniform/xu_antithetic": ("scale", REUSED + r"they are each other's negatives"),
    "xavier_uniform/xu_repeated_block": ("scale", REUSED + r"are values reused: a block repeated"),
    "kaiming_normal/kn_row_broadcast": ("scale", r"values repeat on shape \(.*\): .* and \d+ values repeat that "
                                                 r"often — is one block of values reused"),
    "xavier_uniform/xu_sorted": ("distribution", ORDER + r"values sorted, or partly sorted\?$"),
    "xavier_uniform/xu_half_sorted": ("distribution", ORDER + r"values sorted, or partly sorted\?$"),
    "kaiming_normal/kn_sorted_by_magnitude": ("distribution", ORDER + r"values' magnitudes sorted"),
    "xavier_uniform/normal_not_uniform": ("scale", SUPPORT),
    "xavier_uniform/std_as_bound": ("scale", SPREAD),
    "xavier_uniform/xu_bound_2pct": ("scale", SUPPORT + r"\.$"),
    "xavier_uniform/xu_gain_squared": ("arguments", SUPPORT.replace(r"\(.*\)", r"\(.*\) with gain=3\.0", 1)),
    "xavier_uniform/xu_fixed_seed": ("scale", r"two calls xavier_uniform\(\(\d+, \d+\), rng=rng\) in a row with the "
                                              r"same generator returned identical values: your function must draw "
                                              r"from `rng`, which advances at every call \(a fixed seed inside\?\)"),
    "xavier_uniform/xu_global_rng": ("rng", r"generators seeded alike returned different values: draw every random "
                                            r"number from `rng` \(e\.g\. rng\.uniform\(-bound, bound, size=shape\)\)"),
    "xavier_normal/xn_uniform": ("distribution", FAMILY_KS),
    "xavier_normal/xn_truncated": ("scale", SPREAD),
    "kaiming_uniform/ku_mode_ignored": ("arguments", SPREAD.replace(r"\(.*\)", r"\(.*\) with mode='fan_out'", 1)),
    "kaiming_uniform/ku_mode_unchecked": ("errors", r"kaiming_uniform\(\(4, 3\), rng=rng, mode='fan_avg'\) returned "
                                                    r"normally; expected ValueError \(Kaiming's mode is 'fan_in' or 'fan_out'\)"),
    "kaiming_normal/kn_uniform": ("distribution", FAMILY_KS),
    "truncated_normal/tn_clip": ("scale", CLIPPED),
    "truncated_normal/tn_untruncated": ("scale", SUPPORT),
    "truncated_normal/tn_mean_ignored": ("distribution", FAMILY_TAILS),
    "variance_scaling/vs_no_correction": ("scale", SPREAD),
    "variance_scaling/vs_scale_unchecked": ("errors", r"returned normally; expected ValueError \(scale must be > 0\)"),
    "orthogonal/orth_no_sign_fix": ("distribution", r"W\[0, 0\] was positive in 0 of 1500 matrices of shape \(3, 5\); "
                                                    r"a Haar-distributed W is positive half the time \(\[642, 858\] with "
                                                    r"near certainty\) — did you multiply Q's columns by the signs of "
                                                    r"R's diagonal\?$"),
    "orthogonal/orth_no_qr": ("orthogonality", r"W·Wᵀ should be gain²·I = 1·I, but differs from it by up to [\d.]+ "
                                               r"\(tolerance 1\.0e-10\); its rows/columns have norms"),
    "orthogonal/orth_gain_ignored": ("arguments", r"gain=2\): W·Wᵀ should be gain²·I = 4·I.*expected 2\.$"),
    "compute_fans/fans_swapped": ("values", r"fan_in and fan_out swapped, or is your default layout not 'torch'\?$"),
    "calculate_gain/relu_gain_two": ("values", r"calculate_gain\('relu'\) returned 2; expected 1\.414 \(PyTorch's gain table\)"),
}


def sub_test_message(message: str, aspect: str) -> str:
    """The message without the check's label and the diagnosis that may follow."""
    head = message.split(" Diagnosis:")[0]
    return head.split(f" — {aspect}: ", 1)[1]


@pytest.mark.parametrize("key", sorted(SUB_TESTS))
@pytest.mark.parametrize("seed", (0, 1))
def test_a_catalogued_mistake_fails_in_the_sub_test_that_names_it(key, seed):
    aspect, pattern = SUB_TESTS[key]
    failed = entry_failures(MISTAKES[key], seed, only=MISTAKES[key].fails, first=True)
    assert list(failed) == [aspect], failed
    assert re.search(pattern, sub_test_message(failed[aspect], aspect)), failed[aspect]


# --- sub-tests no catalogued NumPy mistake reaches first ------------------------------------

def _qr_with_sign(sign: float):
    """An orthogonal matrix whose W[0, 0] always has the given sign (a wrong sign fix)."""
    def orthogonal(shape, gain=1.0, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        if len(shape) < 2:
            raise ValueError("orthogonal needs at least 2 dimensions")
        rows, cols = shape[0], int(np.prod(shape[1:]))
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        w = q.T if rows < cols else q
        w[:, 0] *= sign * np.sign(w[0, 0]) if w[0, 0] != 0 else 1.0  # flip one column: still orthogonal
        return gain * w.reshape(shape)
    return orthogonal


@pytest.mark.parametrize("sign, count", [(1.0, "1500"), (-1.0, "0")])
def test_a_one_signed_orthogonal_is_told_about_the_sign_fix_on_either_side(sign, count):
    """The sign test is two-sided: W[0, 0] always positive or always negative both get the
    sign-fix message, from the sign sub-test (not the KS test's "not Haar-distributed")."""
    message = failing_aspects(checks.check_orthogonal, _qr_with_sign(sign), only=("distribution",))["distribution"]
    assert re.search(rf"W\[0, 0\] was positive in {count} of 1500 matrices .* — did you multiply Q's columns by "
                     r"the signs of R's diagonal\?", message), message
    assert "not Haar-distributed" not in message


def test_a_matrix_law_off_in_shape_only_gets_the_ks_message():
    """Signs balanced but |W[0, 0]| not Haar: rows and columns of one fixed orthogonal matrix,
    permuted and given random signs — orthogonal, yet W[0, 0] takes only 25 values."""
    fixed, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 5)))

    def orthogonal(shape, gain=1.0, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        w = (rng.choice([-1.0, 1.0], 5)[:, None] * fixed[rng.permutation(5)][:, rng.permutation(5)])
        return gain * w[:shape[0]]

    message = failing_aspects(checks.check_orthogonal, orthogonal, only=("distribution",))["distribution"]
    assert re.search(r"W\[0, 0\]/‖W\[0\]‖ over 1500 matrices of shape \(3, 5\) is 0\.\d{3} away \(KS\) from a "
                     r"coordinate of a uniform point on the sphere \(limit 0\.\d{3}\): your matrices are orthogonal "
                     r"but not Haar-distributed", message), message


def _uniform(bound_factor: float, folded: float = 0.0):
    """Xavier uniform with the bound × ``bound_factor``, and a fraction ``folded`` of the
    values replaced by their absolute value (the mean moves by folded·a/2, E x² does not)."""
    def xavier_uniform(shape, gain=1.0, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        fan_in, fan_out = shape[1] * int(np.prod(shape[2:])), shape[0] * int(np.prod(shape[2:]))
        bound = bound_factor * gain * np.sqrt(6.0 / (fan_in + fan_out))
        x = rng.uniform(-bound, bound, size=shape)
        return np.where(rng.uniform(size=shape) < folded, np.abs(x), x)
    return xavier_uniform


def test_a_bound_a_little_too_small_is_told_the_values_never_reach_the_ends():
    """A bound 0.3 % too small: the spread (std 0.3 % low, band ±0.8 %) passes, but the
    edge sub-test wants values within p = ln(2/α')/n ≈ 1.5e-4 of each end (2p ≈ 0.03 % of a)."""
    message = failing_aspects(checks.check_xavier_uniform, _uniform(0.997), only=("scale",))["scale"]
    assert "values never come near the ends of the support on shape (" in message, message
    assert "— is the bound too small?" in message


def test_a_shifted_law_with_the_right_spread_is_told_the_mean_is_off():
    """10 % of the values folded to |x|: the mean moves by 0.1·a/2 = 0.05a, about 3× the
    Hoeffding half-width 2a·√(ln(2/α')/(2n)) ≈ 0.017a, while E x² is exactly the target's."""
    message = failing_aspects(checks.check_xavier_uniform, _uniform(1.0, folded=0.1), only=("scale",))["scale"]
    assert re.search(r"mean off on shape \(.*\): expected 0, observed [\d.e-]+ \(a correct function lands "
                     r"within ±[\d.e-]+ over \d+ samples\)", message), message


# --- issue 17, item 6: messages that did not say what happened -----------------------------------

def test_a_float32_result_off_beyond_float32_rounding_gets_a_precision_hint():
    """var_of_product returning np.float32 passes interface, then fails values on the 7th digit:
    the message says why (here a float32 value 2e-6 off, more than the tolerance's 20 roundings)."""
    def var_of_product(mean_x, var_x, mean_y, var_y):
        return np.float32((var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2) * (1 + 2e-6))

    failed = failing_aspects(checks.check_var_of_product, var_of_product, 0)
    assert set(failed) == {"values"}
    assert "you returned np.float32, which keeps about 7 significant digits" in failed["values"]
    assert "compute in float64" in failed["values"]


def test_a_float64_result_off_the_same_way_gets_no_float32_hint():
    def var_of_product(mean_x, var_x, mean_y, var_y):
        return (var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2) * (1 + 2e-6)

    assert "np.float32" not in failing_aspects(checks.check_var_of_product, var_of_product, 0)["values"]


def test_a_torch_message_prints_the_call_that_reproduces_it():
    """The adapter fills torch.empty(shape, requires_grad=True): the printed call says so, so
    pasting it reproduces the error (filling it outside torch.no_grad() raises)."""
    torch = pytest.importorskip("torch")
    from initkit.mistakes import load_track

    load_track("torch")
    message = entry_failures(MISTAKES["torch:xavier_uniform/no_no_grad"], 0, only=("interface",))["interface"]
    call = re.search(r"no_no_grad\((torch\.empty\(\(4, 3\).*?\)), generator=generator\)", message)
    assert call and "requires_grad=True" in call.group(1), message
    tensor = eval(call.group(1), {"torch": torch})
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        MISTAKES["torch:xavier_uniform/no_no_grad"].fn(tensor, generator=torch.Generator())
