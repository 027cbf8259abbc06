"""initkit.checks — statistical grading of a student's initializers.

``check_<name>(fn, *, aspect=None, seed=0, fixed=None)`` grades ``fn`` against the contract
of COURSE.md §5. On success it prints one ✓ line per aspect and returns ``None``; on failure
it raises ``AssertionError`` with expected vs observed numbers and the shapes and arguments
tried. ``seed`` picks the check's random stream *and* the shapes and arguments it tries, so
hidden tests with other seeds try other shapes. Verdicts are deterministic.

False alarms (α). A check grants each aspect α = 1e-7 and has at most 8 aspects, so a
correct implementation fails a full check with probability ≤ 8e-7 < 1e-6, whatever the
seed. Inside an aspect α is split evenly (union bound) over its sub-tests, and every
sub-test's threshold comes from an exact law or a conservative inequality, written next to
it in ``_stats.py``: the sample mean is exactly normal for normal laws and Hoeffding-bounded
for bounded ones; the second moment about the target mean is exactly χ²-distributed for
normal laws and Bernstein-bounded (with the law's exact fourth moment) for bounded ones;
the empirical CDF obeys the Dvoretzky–Kiefer–Wolfowitz inequality with Massart's constant,
and standardising by the estimated mean and std moves it by at most
sup f₀·|x̄ − μ|/σ + sup|z f₀|·|ln(s/σ)|, both bounded by the previous sub-tests. Support
checks are exact (a correct draw never leaves the support; one ulp of slack for rounding)
and "reaches the edges" uses P(max < F⁻¹(1 − p)) = (1 − p)ⁿ ≤ e^{−np}.

Power (1 − β). Shapes and arguments are chosen so each catalogued mistake moves a statistic
far beyond its threshold: fan_in and fan_out differ by ≥ 2× (swapped fans or the wrong mode
change the variance by ≥ 1.5×), kernels have a receptive field ≥ 9, gains are 0.5, 5/3 and
3 (a squared gain or one under the root is off by ≥ 1.3×), leaky slopes are 1 and 3,
truncated normals have non-zero means and asymmetric bounds. With n ≥ 4·10⁴ values per case
the variance threshold sits within ±6 % of the target (z ≈ 5.9, √(2/n)) while the smallest
catalogued variance error is ≥ 20 %, i.e. ≥ 10 standard errors beyond it: β < 1e-10. A
bound 2 % too large is caught by the support check, P(miss) = (1/1.02)ⁿ < 1e-300; a
different family of the same variance by KS (distance ≥ 0.04 vs a threshold ≤ 0.02 at
n = 1.2·10⁵). Calibration (``tools/calibrate.py``) verifies both claims by simulation.

Deterministic functions (``var_of_product``, ``compute_fans``, ``calculate_gain``,
``batch_norm``) have no α: their checks try the whole input space of the contract
(``_contract.py``: every name and its near misses, the numbers and their look-alikes, every
array layout, every input left untouched), enforce §5's return types in the interface
aspect, and compare values within what a correct float32 computation can be off by — a
tolerance derived from u = 2⁻²⁴ next to each check in ``_deterministic.py`` — whatever
dtype comes back.
"""

from __future__ import annotations

from . import _deterministic
from . import _initializers as _specs
from ._adapters import from_keras, from_torch
from ._engine import run_check
from ._init_weights import INIT_WEIGHTS_KERAS, INIT_WEIGHTS_TORCH
from ._orthogonal import ORTHOGONAL
from ._random import random_aspects

__all__ = [
    "from_torch",
    "from_keras",
    "check_var_of_product",
    "check_relu_moments",
    "check_preactivation_variance",
    "check_predict_std",
    "check_compute_fans",
    "check_calculate_gain",
    "check_xavier_uniform",
    "check_xavier_normal",
    "check_kaiming_uniform",
    "check_kaiming_normal",
    "check_truncated_normal",
    "check_variance_scaling",
    "check_orthogonal",
    "check_batch_norm",
    "check_init_weights_torch",
    "check_init_weights_keras",
]


def _make_check(name, aspects, fixable=(), layouts=("torch",)):
    def check(fn, *, aspect=None, seed=0, fixed=None):
        failure = run_check(name, aspects, fn, aspect, seed, fixed, fixable, layouts)
        if failure:
            raise AssertionError(failure)

    first = next(iter(aspects))
    check.__name__ = f"check_{name}"
    check.__doc__ = (
        f"Grade a student's ``{name}``. Aspects: {', '.join(aspects)}."
        + (f" ``fixed`` may hold {', '.join(fixable)}: arguments the function fixes itself "
           "(a preset); the check then does not pass them and varies only the rest."
           if fixable else "")
        + f"\n\nExample:\n    >>> import initkit\n"
        f"    >>> def {name}(*args, **kwargs):  # stands in for your own function\n"
        f"    ...     return initkit.{name}(*args, **kwargs)\n"
        f"    >>> check_{name}({name}, aspect={first!r})  # doctest: +ELLIPSIS\n"
        f"    ✓ {name}: {first}...\n"
    )
    check.aspects = tuple(aspects)
    return check


def _make_random_check(spec):
    return _make_check(spec.name, random_aspects(spec), spec.arguments, (spec.layout,))


check_var_of_product = _make_check("var_of_product", _deterministic.VAR_OF_PRODUCT)
check_relu_moments = _make_check("relu_moments", _deterministic.RELU_MOMENTS)
check_preactivation_variance = _make_check("preactivation_variance", _deterministic.PREACTIVATION_VARIANCE)
check_predict_std = _make_check("predict_std", _deterministic.PREDICT_STD)
check_compute_fans = _make_check("compute_fans", _deterministic.COMPUTE_FANS)
check_calculate_gain = _make_check("calculate_gain", _deterministic.CALCULATE_GAIN)
check_xavier_uniform = _make_random_check(_specs.XAVIER_UNIFORM)
check_xavier_normal = _make_random_check(_specs.XAVIER_NORMAL)
check_kaiming_uniform = _make_random_check(_specs.KAIMING_UNIFORM)
check_kaiming_normal = _make_random_check(_specs.KAIMING_NORMAL)
check_truncated_normal = _make_random_check(_specs.TRUNCATED_NORMAL)
check_variance_scaling = _make_random_check(_specs.VARIANCE_SCALING)
check_orthogonal = _make_check("orthogonal", ORTHOGONAL, layouts=("torch", "keras"))
check_batch_norm = _make_check("batch_norm", _deterministic.BATCH_NORM)
check_init_weights_torch = _make_check("init_weights_torch", INIT_WEIGHTS_TORCH)
check_init_weights_keras = _make_check("init_weights_keras", INIT_WEIGHTS_KERAS)

#: Whole-model exercises (notebook 08): the function takes a model, not a shape.
MODEL_TARGETS = ("init_weights_torch", "init_weights_keras")
#: The NumPy-track exercises these checks grade, in curriculum order (initkit has each one).
TARGETS = tuple(name.removeprefix("check_") for name in __all__
                if name.startswith("check_") and name.removeprefix("check_") not in MODEL_TARGETS)
