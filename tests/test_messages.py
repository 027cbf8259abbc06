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
# … and of the orthogonal Haar test (initkit/checks/_orthogonal.py, distribution).
DIAGONAL = (r"the diagonal entries W\[j, j\] were positive in \d+ of \d+ \(\d+%\) over 1500 matrices of shapes \(.*\); "
            r"for a Haar-distributed W each is positive with probability ½ \(\[\d+, \d+\] with near certainty\); "
            r"positive share of W\[0, 0\], W\[1, 1\], … per shape: .* — ")
FOURTH = (r"the fourth moment Σᵢ qᵢ⁴ of the first row \(wide W\) or column \(tall W\), scaled to unit length, averages "
          r"0\.\d{4} over 1500 matrices of shapes .*; for a uniformly random unit vector it is 3/\(m\+2\), 0\.\d{4} on "
          r"average here \(a correct function lands within \[0\.\d{4}, 0\.\d{4}\]\): your vectors are ")

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
    "orthogonal/orth_no_sign_fix": ("distribution", DIAGONAL + r"every diagonal position is biased: did you "
                                                    r"multiply Q's columns by the signs of R's diagonal"),
    "orthogonal/orth_sign_fix_first_column": ("distribution", DIAGONAL + r"W\[0, 0\] is fine and every later diagonal "
                                                              r"position is biased: only the first column of Q got its sign fixed"),
    "orthogonal/orth_sign_fix_all_but_last": ("distribution", r"only the last diagonal position is biased: your sign "
                                                              r"fix misses Q's last column"),
    "orthogonal/orth_sign_fix_wide_only": ("distribution", r"is biased and the others are not: your sign fix is missing "
                                                           r"in some orientations"),
    "orthogonal/orth_global_sign": ("distribution", r"neighbouring diagonal entries W\[j, j\] and W\[j\+1, j\+1\] had the "
                                                    r"same sign in \d+ of \d+ pairs .* — did you flip the whole Q by one sign"),
    "orthogonal/orth_qr_of_uniform": ("distribution", FOURTH + r"flatter than Haar — the matrix you factorised was not "
                                                      r"standard Gaussian \(light-tailed or one-signed, e\.g\. uniform\)"),
    "orthogonal/orth_qr_of_symmetric_uniform": ("distribution", FOURTH + r"flatter than Haar — the matrix you factorised"),
    "orthogonal/orth_qr_of_laplace": ("distribution", FOURTH + r"spikier than Haar — the matrix you factorised was not "
                                                      r"standard Gaussian \(heavy-tailed, e\.g\. Laplace\)"),
    "orthogonal/orth_no_qr": ("orthogonality", r"W·Wᵀ should be gain²·I = 1·I, but differs from it by up to [\d.]+ "
                                               r"\(tolerance [\d.]+e-\d+\); its rows/columns have norms"),
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


@pytest.mark.parametrize("sign, share", [(1.0, "100%"), (-1.0, "0%")])
def test_a_one_signed_orthogonal_is_told_about_the_sign_fix_on_either_side(sign, share):
    """The sign tests are two-sided: W[0, 0] always positive or always negative both get a
    sign message naming the biased position (not the KS test's "not Haar-distributed", and not
    "only the first column got its sign fixed": here the first column is the one that is off)."""
    message = failing_aspects(checks.check_orthogonal, _qr_with_sign(sign), only=("distribution",))["distribution"]
    assert re.search(rf"per shape: \(\d+, \d+\): {share}, .* — biased at W\[0, 0\] of \(\d+, \d+\), W\[0, 0\] of "
                     r"\(\d+, \d+\), W\[0, 0\] of \(\d+, \d+\) only: the signs of those columns of Q are not random",
                     message), message
    assert "not Haar-distributed" not in message and "only the first column" not in message


def test_a_matrix_law_off_in_shape_only_gets_the_ks_message():
    """The KS sub-test on its own: diagonal entries whose F_m(W_jj/‖·‖) piles up in the middle
    (|W_jj| too small) with fair signs is told "orthogonal but not Haar-distributed"."""
    from initkit.checks._engine import Context
    from initkit.checks._orthogonal import N_PER_SHAPE, _HaarSample, _ks_diagonal

    rng = np.random.default_rng(0)
    samples = [_HaarSample(shape, rng.random((N_PER_SHAPE, min(shape))) < 0.5, None, np.zeros(N_PER_SHAPE),
                           np.zeros(N_PER_SHAPE), 0.5 + 0.3 * (rng.random(N_PER_SHAPE) - 0.5))
               for shape in [(3, 6), (7, 3), (4, 4)]]
    message = _ks_diagonal(samples, 1e-7 / 6, Context("orthogonal", 0, {}), None)
    assert re.search(r"a diagonal entry W\[j, j\] divided by the norm of its row \(wide W\) or column \(tall W\), one "
                     r"per matrix over 1500 matrices of shapes \(3, 6\), \(7, 3\), \(4, 4\), is 0\.\d{3} away \(KS\) from "
                     r"a coordinate of a uniform point on the sphere \(limit 0\.\d{3}\): your matrices are orthogonal "
                     r"but not Haar-distributed", message), message
    uniform = [_HaarSample(s.shape, s.diag_positive, None, s.first_column, s.column_mean,
                           rng.random(N_PER_SHAPE)) for s in samples]
    assert _ks_diagonal(uniform, 1e-7 / 6, Context("orthogonal", 0, {}), None) == ""


def test_no_orthogonal_diagnosis_contradicts_its_headline():
    """Non-Gaussian QR is never told about the sign fix; sign mistakes are never told the matrix
    was not Gaussian (issue 17: QR of a U[0, 1) matrix was told "did you multiply Q's columns by
    sign(diag R)?")."""
    for key in ("orthogonal/orth_qr_of_uniform", "orthogonal/orth_qr_of_laplace",
                "orthogonal/orth_qr_of_symmetric_uniform"):
        message = failing_aspects(checks.check_orthogonal, MISTAKES[key].fn, only=("distribution",))["distribution"]
        assert "not standard Gaussian" in message, message
        assert not any(words in message for words in ("sign(", "sign fix", "R's diagonal")), message
    for key in ("orthogonal/orth_no_sign_fix", "orthogonal/orth_sign_fix_first_column", "orthogonal/orth_global_sign",
                "orthogonal/orth_sign_fix_all_but_last"):
        message = failing_aspects(checks.check_orthogonal, MISTAKES[key].fn, only=("distribution",))["distribution"]
        assert "Gaussian" not in message and "np.sign(np.diag(r))" in message, message


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


# --- the rng aspect: one message per broken rule, word for word (issue 21) -------------------------

def _rng_mistakes(target: str) -> dict:
    """Four ways to break the rng rules around initkit's own ``target`` (right in every other
    way): {name: function}."""
    from initkit.mistakes import reference

    right = reference(target)

    def fresh_entropy(shape, *args, rng=None, **kwargs):  # ignores rng: a new seed each call
        return right(shape, *args, rng=np.random.default_rng(), **kwargs)

    def fixed_seed(shape, *args, rng=None, **kwargs):
        return right(shape, *args, rng=np.random.default_rng(0), **kwargs)

    def touches_global(shape, *args, rng=None, **kwargs):
        np.random.random()
        return right(shape, *args, rng=rng, **kwargs)

    def none_is_fixed(shape, *args, rng=None, **kwargs):
        return right(shape, *args, rng=rng or np.random.default_rng(0), **kwargs)

    return {f.__name__: f for f in (fresh_entropy, fixed_seed, touches_global, none_is_fixed)}


RNG_MESSAGES = {
    "fresh_entropy": "two calls {call} with generators seeded alike returned different values: draw every random "
                     "number from `rng` (e.g. {example}), nothing else.",
    "fixed_seed": "calls {call} with generators seeded differently returned the same values: your function ignores "
                  "`rng` (a fixed seed inside?).",
    "touches_global": "your function changed NumPy's global random state (np.random.*): draw from the `rng` argument "
                      "instead, so results are reproducible.",
    "none_is_fixed": "two calls {target}({shape}) without a seed returned the same values: with rng=None use a fresh "
                     "np.random.default_rng().",
}
RNG_CASES = {  # target: (the rng aspect's shape, the example draw its message gives)
    "xavier_uniform": ("(4, 3)", "rng.uniform(-bound, bound, size=shape)"),
    "kaiming_normal": ("(4, 3)", "rng.normal(0.0, std, size=shape)"),
    "truncated_normal": ("(4, 3)", "rng.normal(0.0, std, size=shape)"),
    "orthogonal": ("(5, 3)", "rng.normal(0.0, std, size=shape)"),
}


@pytest.mark.parametrize("target", sorted(RNG_CASES))
@pytest.mark.parametrize("mistake", sorted(RNG_MESSAGES))
def test_each_broken_rng_rule_gets_its_own_message_word_for_word(target, mistake):
    shape, example = RNG_CASES[target]
    fn = _rng_mistakes(target)[mistake]
    expected = RNG_MESSAGES[mistake].format(call=f"{target}({shape}, rng=rng)", example=example, target=target,
                                            shape=shape)
    for seed in (0, 7):
        assert failing_aspects(getattr(checks, f"check_{target}"), fn, seed, only=("rng",)) == \
            {"rng": f"{target} — rng: {expected}"}


# --- orthogonality: the Gram matrix, its tolerance and the norms, word for word (issue 21) -------

@pytest.mark.parametrize("wrong_when", ["wide", "tall"])
def test_an_orthogonal_matrix_off_by_a_factor_is_told_its_gram_error_tolerance_and_norms(wrong_when):
    """1.5·Q: W·Wᵀ (wide) or Wᵀ·W (tall) is 2.25·I, 1.25 off I; every row (wide) or column
    (tall) has norm 1.5. The tolerance is 4·k·2⁻²⁴, k the long side (``_tolerance``)."""
    from initkit.mistakes import reference

    right = reference("orthogonal")

    def scaled(shape, gain=1.0, rng=None):
        w = right(shape, gain=gain, rng=rng)
        tall = shape[0] > shape[1]
        return 1.5 * w if tall == (wrong_when == "tall") else w

    message = failing_aspects(checks.check_orthogonal, scaled, 4, only=("orthogonality",))["orthogonality"]
    rows, cols = map(int, re.search(r"orthogonal\(\((\d+), (\d+)\), rng=rng\)", message).groups())
    assert (rows > cols) == (wrong_when == "tall")
    which = "Wᵀ·W" if wrong_when == "tall" else "W·Wᵀ"
    tolerance = 4 * max(rows, cols) * 2.0**-24
    assert message == (f"orthogonal — orthogonality: orthogonal(({rows}, {cols}), rng=rng): {which} should be "
                       f"gain²·I = 1·I, but differs from it by up to 1.25 (tolerance {tolerance:.1e}); its "
                       f"rows/columns have norms 1.5…1.5, expected 1.")


def test_the_interface_aspect_says_what_it_tried_and_which_call_broke():
    """Its ✓ line counts the shapes it tried; a function that needs a generator breaks on
    the call without one, named as the student would write it."""
    import contextlib
    import io

    from initkit.mistakes import reference

    right = reference("xavier_uniform")
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        checks.check_xavier_uniform(right, aspect="interface")
    assert shown.getvalue() == "✓ xavier_uniform: interface (2 shapes)\n"

    def needs_a_generator(shape, gain=1.0, rng=None):
        return right(shape, gain=gain, rng=np.random.default_rng(rng.integers(9)))

    assert failing_aspects(checks.check_xavier_uniform, needs_a_generator, 0, only=("interface",)) == {
        "interface": "xavier_uniform — interface: xavier_uniform((4, 3)) raised AttributeError: 'NoneType' object "
                     "has no attribute 'integers' — in your function."}
