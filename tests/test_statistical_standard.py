"""The statistical standard of COURSE.md §6, tested as accounting rather than by simulation:
the α each threshold of a check receives adds up to no more than its aspect's budget, the
acceptance regions follow their formulas, and the checks' time budget stays below nbgrader's
per-cell timeout."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from initkit import checks
from initkit.checks import _engine, _laws, _stats
from initkit.mistakes import reference

ROOT = Path(__file__).resolve().parent.parent

# The α a threshold function spends when the check calls it with ``alpha``: the probability
# that a correct implementation lands outside the region it returns. standardised_support
# reuses the mean and second-moment events of standardised_ks_threshold's own α (its
# docstring: "no extra α"), so it spends nothing of its own.
SPENDS = {
    "mean_halfwidth": 1.0,
    "second_moment_interval": 1.0,
    "top_quantile": 1.0,
    "ks_threshold": 1.0,
    "standardised_ks_threshold": 1.0,
    "binomial_interval": 1.0,
    "bernstein_sum_interval": 1.0,
    "repeat_limit": 1.0,
    "duplicate_limit": 1.0,
    "standardised_support": 0.0,
}
RANDOM_TARGETS = ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
                  "truncated_normal", "variance_scaling", "orthogonal"]


@contextlib.contextmanager
def alpha_ledger(monkeypatch):
    """Record (threshold, α) for each call a check makes to a threshold of ``_stats``; calls
    one threshold makes to another (its own split) are inside its α and not recorded again."""
    ledger: list[tuple[str, float]] = []
    depth = [0]
    for name, share in SPENDS.items():
        original = getattr(_stats, name)

        def spy(*args, _original=original, _name=name, _share=share, **kwargs):
            alpha = kwargs.get("alpha", args[-1])
            if depth[0] == 0:
                ledger.append((_name, _share * alpha))
            depth[0] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(_stats, name, spy)
    yield ledger


def _aspects(target):
    check = getattr(checks, f"check_{target}")
    return [(target, aspect) for aspect in check.aspects]


@pytest.mark.parametrize("target, aspect", [c for t in RANDOM_TARGETS for c in _aspects(t)],
                         ids=lambda v: str(v))
def test_the_alpha_a_reference_check_spends_stays_within_its_aspects_budget(target, aspect, monkeypatch):
    """Bonferroni: P(some sub-test fails a correct function) ≤ Σ αᵢ ≤ ALPHA_PER_ASPECT."""
    with alpha_ledger(monkeypatch) as ledger, contextlib.redirect_stdout(io.StringIO()):
        getattr(checks, f"check_{target}")(reference(target), aspect=aspect, seed=0)
    spent = sum(a for _, a in ledger)
    assert spent <= _engine.ALPHA_PER_ASPECT * (1 + 1e-12), (spent, ledger)
    statistical = aspect in ("scale", "distribution") or (aspect == "arguments" and target != "orthogonal")
    assert (spent > 0) == statistical, ledger  # deterministic aspects spend nothing


def test_scale_spends_its_whole_budget_on_a_bounded_law(monkeypatch):
    """xavier_uniform's scale: 2 shapes × (repeats + reused values at α/2/8 each, then mean +
    second moment + edges at α/2·¾/3 each) = α."""
    with alpha_ledger(monkeypatch) as ledger, contextlib.redirect_stdout(io.StringIO()):
        checks.check_xavier_uniform(reference("xavier_uniform"), aspect="scale", seed=0)
    assert sorted({name for name, _ in ledger}) == ["duplicate_limit", "mean_halfwidth", "repeat_limit",
                                                    "second_moment_interval", "top_quantile"]
    a = _engine.ALPHA_PER_ASPECT
    assert all(alpha == pytest.approx(a / 16 if name in ("repeat_limit", "duplicate_limit") else a / 8, rel=1e-12)
               for name, alpha in ledger), ledger
    assert sum(alpha for _, alpha in ledger) == pytest.approx(a, rel=1e-12)


def test_arguments_splits_each_case_between_scale_and_the_exact_tests(monkeypatch):
    """kaiming_normal's arguments: per case α/8, half to the scale (mean, second moment), half
    split evenly over repeats, normal tails, reused values and 2 orders × each axis."""
    with alpha_ledger(monkeypatch) as ledger, contextlib.redirect_stdout(io.StringIO()):
        checks.check_kaiming_normal(reference("kaiming_normal"), aspect="arguments", seed=0)
    # assert_scale gives a third of its half to each of mean, spread and edges; an unbounded
    # law has no edges, so the aspect spends (½·⅔ + ½)·α = 5α/6
    assert sum(alpha for _, alpha in ledger) == pytest.approx(_engine.ALPHA_PER_ASPECT * 5 / 6, rel=1e-12)
    first_case = _engine.ALPHA_PER_ASPECT / 8 / 2  # a 2-D shape: 3 + 2·2 = 7 exact sub-tests
    assert [name for name, _ in ledger[:9]] == ["mean_halfwidth", "second_moment_interval", "repeat_limit",
                                               "binomial_interval", "duplicate_limit"] + ["binomial_interval"] * 4
    assert [alpha for _, alpha in ledger[2:9]] == pytest.approx([first_case / 7] * 7, rel=1e-12)


# --- the exact family and independence sub-tests -------------------------------------------

def test_normal_tail_count_is_binomial_with_the_normal_tail_share():
    assert _stats.normal_tail_share() == pytest.approx(2 * stats.norm.sf(2.5), rel=1e-12)
    assert _stats.normal_tail_share() == pytest.approx(0.0124193, rel=1e-5)
    lo, hi = _stats.binomial_interval(40_000, ALPHA, _stats.normal_tail_share())
    p = _stats.normal_tail_share()
    assert stats.binom.cdf(lo - 1, 40_000, p) <= ALPHA / 2 < stats.binom.cdf(lo, 40_000, p)
    assert stats.binom.sf(hi, 40_000, p) <= ALPHA / 2 < stats.binom.sf(hi - 1, 40_000, p)


def test_repeat_limit_is_the_smallest_m_of_the_union_bound():
    # P(some value ≥ m times) ≤ C(n, m)·p^(m−1): n = 2·10⁵, p = 2⁻²³, α = 1e-9 ⇒ m = 8.
    def bound(n, m, p):
        return math.comb(n, m) * p ** (m - 1)
    m = _stats.repeat_limit(200_000, 2.0**-23, 1e-9)
    assert m == 8 and bound(200_000, 8, 2.0**-23) <= 1e-9 < bound(200_000, 7, 2.0**-23)


def test_duplicate_limit_is_expected_collisions_plus_mcdiarmid():
    # C(n, 2)·2p + √(n·ln(1/α)/2)
    n, p = 120_000, 2.0**-23
    expected = n * (n - 1) / 2 * 2 * p + math.sqrt(n * math.log(1 / ALPHA) / 2)
    assert _stats.duplicate_limit(n, p, ALPHA) == pytest.approx(expected, rel=1e-12)


def test_level_p_max_is_the_coarser_of_23_random_bits_and_float32_rounding():
    assert _laws.normal(0.1).level_p_max == 2.0**-23
    assert _laws.uniform(0.3).level_p_max == 2.0**-23
    # N(2, 1) on [0, 2.5]: f(2)·ulp(2) = 0.3989/0.6687·2⁻²² ≈ 2.4·2⁻²³
    tn = _laws.truncated_normal(2.0, 1.0, 0.0, 2.5)
    density_at_2 = stats.norm.pdf(0) / (stats.norm.cdf(0.5) - stats.norm.cdf(-2.0))
    assert tn.level_p_max == pytest.approx(density_at_2 * 2.0**-22 * 1.02, rel=2e-3)


def test_randomised_binomial_p_value_is_uniform_under_the_null():
    rng = np.random.default_rng(5)
    ks = rng.binomial(50, 0.3, size=20_000)
    ps = [_stats.randomised_binomial_p_value(int(k), 50, 0.3, u) for k, u in zip(ks, rng.uniform(size=ks.size))]
    assert stats.kstest(ps, "uniform").pvalue > 1e-3


# --- acceptance regions pinned to their formulas (fixed law, n, α) -------------------------

N, ALPHA = 10_000, 1e-7


def test_mean_halfwidth_normal_is_the_exact_z_interval():
    # N(0, 2²): t = z_{α/2}·σ/√n, z_{5e-8} = 5.326723886 (normal quantile).
    assert _stats.mean_halfwidth(_laws.normal(2.0), N, ALPHA) == pytest.approx(5.326723886 * 2 / 100, rel=1e-9)


def test_mean_halfwidth_bounded_is_hoeffding():
    # U(−1, 1): t = (hi − lo)·√(ln(2/α)/(2n)) = 2·√(ln(2e7)/2e4).
    expected = 2 * math.sqrt(math.log(2e7) / 2e4)
    assert _stats.mean_halfwidth(_laws.uniform(1.0), N, ALPHA) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.0579849, rel=1e-6)


def test_second_moment_interval_normal_is_the_exact_chi_square_interval():
    # N(0, 1): n·m₂/σ² ~ χ²(n): [χ²_{α/2}(n), χ²_{1−α/2}(n)]/n.
    lo, hi = _stats.second_moment_interval(_laws.normal(1.0), N, ALPHA)
    assert lo == pytest.approx(stats.chi2.ppf(ALPHA / 2, N) / N, rel=1e-12)
    assert hi == pytest.approx(stats.chi2.isf(ALPHA / 2, N) / N, rel=1e-12)
    assert (lo, hi) == pytest.approx((0.926485, 1.077165), abs=1e-6)  # ≈ 1 ∓ 5.33·√(2/n), skewed right


def test_second_moment_interval_bounded_is_bernstein():
    # U(−1, 1): σ² = 1/3, M = 1, v = E x⁴ − σ⁴ = 1/5 − 1/9 = 4/45, L = ln(2/α);
    # t = (2LM/3 + √((2LM/3)² + 8nLv))/(2n).
    big_l = math.log(2 / ALPHA)
    t = (2 * big_l / 3 + math.sqrt((2 * big_l / 3) ** 2 + 8 * N * big_l * 4 / 45)) / (2 * N)
    lo, hi = _stats.second_moment_interval(_laws.uniform(1.0), N, ALPHA)
    assert (lo, hi) == pytest.approx((1 / 3 - t, 1 / 3 + t), rel=1e-9)


def test_top_quantile_of_a_uniform_law():
    # U(−1, 1): p = ln(2/α)/n, q_hi = F⁻¹(1 − p) = 1 − 2p, q_lo = −1 + 2p.
    p = math.log(2 / ALPHA) / N
    assert _stats.top_quantile(_laws.uniform(1.0), N, ALPHA) == pytest.approx((-1 + 2 * p, 1 - 2 * p), rel=1e-9)


def test_ks_threshold_is_dkw_with_massarts_constant():
    assert _stats.ks_threshold(N, ALPHA) == pytest.approx(math.sqrt(math.log(2 / ALPHA) / (2 * N)), rel=1e-12)


def test_standardised_ks_threshold_adds_the_standardisation_terms():
    # DKW(α/3) + sup f₀·dm + sup|z f₀|·max(−ln r_lo, ln r_hi), each from the α/3 events.
    law = _laws.normal(1.0)
    sup_f, sup_zf = law.lipschitz
    # sup f₀ = φ(0), sup|z f₀| = φ(1), each ×1.001 + 1e-3 for the grid (Law.lipschitz)
    assert sup_f == pytest.approx(1.001 / math.sqrt(2 * math.pi) + 1e-3, rel=1e-6)
    assert sup_zf == pytest.approx(1.001 * math.exp(-0.5) / math.sqrt(2 * math.pi) + 1e-3, rel=1e-6)
    dm, r_lo, r_hi = _stats.standardisation_errors(law, N, ALPHA)
    assert dm == pytest.approx(_stats.mean_halfwidth(law, N, ALPHA / 3), rel=1e-12)
    m2_lo, m2_hi = _stats.second_moment_interval(law, N, ALPHA / 3)
    assert (r_lo, r_hi) == pytest.approx((math.sqrt(m2_lo - dm**2), math.sqrt(m2_hi)), rel=1e-12)
    expected = _stats.ks_threshold(N, ALPHA / 3) + sup_f * dm + sup_zf * max(-math.log(r_lo), math.log(r_hi))
    assert _stats.standardised_ks_threshold(law, N, ALPHA) == pytest.approx(expected, rel=1e-12)
    z_lo, z_hi = _stats.standardised_support(_laws.uniform(1.0), N, ALPHA)
    dm_u, r_lo_u, _ = _stats.standardisation_errors(_laws.uniform(1.0), N, ALPHA)
    assert (z_lo, z_hi) == pytest.approx((-(math.sqrt(3) + dm_u) / r_lo_u, (math.sqrt(3) + dm_u) / r_lo_u), rel=1e-12)


def test_binomial_interval_has_exact_tails_of_at_most_half_alpha_each():
    lo, hi = _stats.binomial_interval(1500, 0.25e-7)  # an exact two-sided binomial interval at α = 2.5e-8
    assert (lo, hi) == (642, 858)
    assert stats.binom.cdf(lo - 1, 1500, 0.5) <= 0.125e-7 < stats.binom.cdf(lo, 1500, 0.5)
    assert stats.binom.sf(hi, 1500, 0.5) <= 0.125e-7 < stats.binom.sf(hi - 1, 1500, 0.5)


@pytest.mark.parametrize("n, alpha, p", [(1500, 0.25e-7, 0.5), (20_000, 1e-7, 0.0124), (40, 1e-3, 0.5)])
@pytest.mark.parametrize("off_by", [0, 3])
def test_binomial_interval_is_the_exact_one_even_when_scipys_quantiles_land_inside_it(n, alpha, p, off_by,
                                                                                       monkeypatch):
    """The interval is the narrowest with both tails ≤ α/2: P(X < lo) ≤ α/2 < P(X ≤ lo) and
    P(X > hi) ≤ α/2 < P(X ≥ hi). scipy's ppf/isf give it; where they land ``off_by`` inside
    (rounding at extreme quantiles), the outward steps reach it all the same."""
    ppf, isf = stats.binom.ppf, stats.binom.isf
    monkeypatch.setattr(stats.binom, "ppf", lambda q, k, p_: ppf(q, k, p_) + off_by)
    monkeypatch.setattr(stats.binom, "isf", lambda q, k, p_: isf(q, k, p_) - off_by)
    lo, hi = _stats.binomial_interval(n, alpha, p=p)
    assert stats.binom.cdf(lo - 1, n, p) <= alpha / 2 < stats.binom.cdf(lo, n, p)
    assert stats.binom.sf(hi, n, p) <= alpha / 2 < stats.binom.sf(hi - 1, n, p)


def test_binomial_interval_of_two_coin_flips():
    """P(X = 0) = P(X = 2) = ¼: at α = 0.1 neither tail may go (¼ > 0.05), at α = 0.9 both go
    (¼ ≤ 0.45)."""
    assert _stats.binomial_interval(2, 0.1) == (0, 2)
    assert _stats.binomial_interval(2, 0.9) == (1, 1)


# --- the checks' time budget against nbgrader's cell timeout --------------------------------

def _cell_timeout() -> float:
    """``c.Execute.timeout`` as nbgrader_config.py sets it (read, not executed)."""
    tree = ast.parse((ROOT / "nbgrader_config.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "c.Execute.timeout":
            return float(ast.literal_eval(node.value))
    raise AssertionError("nbgrader_config.py sets no c.Execute.timeout: set it explicitly (COURSE.md §7)")


def _fresh_check_budget() -> float:
    """CHECK_BUDGET_S as _guard.py defines it: a fresh copy of the module, since other test
    files shorten the imported one's budget to run their watchdog cases quickly."""
    from initkit.checks import _guard

    spec = importlib.util.spec_from_file_location("_guard_fresh_copy", _guard.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return float(module.CHECK_BUDGET_S)


def test_the_check_budget_stays_well_below_nbgraders_cell_timeout():
    """A check past its budget still has to stop the call, absorb the interrupt (≤ 1 s), maybe
    diagnose, and print its verdict inside the same cell: COURSE.md §6 asks for "well below"
    the timeout, read here as at most half of it (120 s → 60 s)."""
    timeout, budget = _cell_timeout(), _fresh_check_budget()
    assert 0 < budget <= timeout / 2, f"CHECK_BUDGET_S = {budget} s, Execute.timeout = {timeout} s"


# --- the null p-values tools/calibrate.py tests for uniformity, pinned to their formulas -----

def test_mean_p_value_is_the_two_sided_z_test():
    # N(1, 2²), n = 400, x̄ = 1.1: z = (1.1 − 1)·√400/2 = 1, p = 2Φ(−1).
    assert _stats.mean_p_value(_laws.normal(2.0, mean=1.0), 1.1, 400) == pytest.approx(0.31731050786291415, rel=1e-9)


def test_second_moment_p_value_normal_is_two_sided_chi_square():
    # σ² = 4, m₂ = 4.4: n·m₂/σ² = 400·1.1 = 440 ~ χ²(400) under the null: p = 2·min(F(440), 1 − F(440)).
    c = 440.0
    expected = 2 * min(stats.chi2.cdf(c, 400), stats.chi2.sf(c, 400))
    assert _stats.second_moment_p_value(_laws.normal(2.0), 4.4, 400) == pytest.approx(expected, rel=1e-12)
    assert _stats.second_moment_p_value(_laws.normal(1.0), 0.9, 400) == pytest.approx(
        2 * stats.chi2.cdf(360.0, 400), rel=1e-12)
    assert _stats.second_moment_p_value(_laws.normal(1.0), 1.0, 400) == pytest.approx(1.0, abs=0.02)


def test_second_moment_p_value_bounded_is_the_clt_z_test():
    # U(−1, 1): σ² = 1/3, v = 4/45; m₂ = 0.35, n = 900: z = (0.35 − 1/3)/√(v/n).
    z = (0.35 - 1 / 3) / math.sqrt(4 / 45 / 900)
    assert _stats.second_moment_p_value(_laws.uniform(1.0), 0.35, 900) == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)


def test_edge_p_values_are_the_exact_laws_of_min_and_max():
    # U(−1, 1), n = 100: P(min ≥ −0.99) = (1 − 0.005)¹⁰⁰, P(max ≤ 0.98) = (1 − 0.01)¹⁰⁰.
    p_min, p_max = _stats.edge_p_values(_laws.uniform(1.0), -0.99, 0.98, 100)
    assert (p_min, p_max) == pytest.approx((0.995**100, 0.99**100), rel=1e-9)
    assert _stats.edge_p_values(_laws.uniform(1.0), -1.5, 1.5, 100) == pytest.approx((1.0, 1.0))
    assert _stats.edge_p_values(_laws.uniform(1.0), 1.0, -1.0, 100) == (0.0, 0.0)  # min ≥ hi: impossible


def test_ks_p_value_is_kolmogorovs_exact_law():
    assert _stats.ks_p_value(0.05, 1000) == pytest.approx(stats.kstwo.sf(0.05, 1000), rel=1e-12)
    assert 0.01 < _stats.ks_p_value(0.05, 1000) < 0.02  # √n·D = 1.58: Kolmogorov's tail ≈ 0.013


def test_true_ks_distance_and_its_bound():
    """D* uses (x − μ)/σ; the bound adds sup f₀·|x̄ − μ|/σ + sup|z f₀|·|ln(s/σ)|."""
    law = _laws.normal(2.0, mean=1.0)
    x = np.array([-1.0, 0.5, 1.2, 2.0, 4.0])
    z = np.sort((x - 1.0) / 2.0)
    cdf = stats.norm.cdf(z)
    d_true = max((np.arange(1, 6) / 5 - cdf).max(), (cdf - np.arange(5) / 5).max())
    sup_f, sup_zf = law.lipschitz
    bound = d_true + sup_f * abs(x.mean() - 1.0) / 2.0 + sup_zf * abs(math.log(x.std() / 2.0))
    assert _stats.true_ks_distance(law, x) == pytest.approx((d_true, bound), rel=1e-12)
    # float32 samples are judged in float64 arithmetic (their values, exactly converted)
    x32 = np.array([-1.1, 0.3, 1.7, 2.9, 4.3], dtype=np.float32)
    assert _stats.true_ks_distance(law, x32) == pytest.approx(_stats.true_ks_distance(law, x32.astype(np.float64)),
                                                               rel=1e-15)


def test_the_haar_sign_p_value_is_randomised_exactly_at_the_observed_count():
    """k = 0 of n = 10: no count is further from 5, the tie {0, 10} has probability 2/2¹⁰, so
    p = U·2/1024 with U the check's own uniform draw (stream (99, s)) — uniform on [0, 1] under H₀."""
    from initkit.checks._engine import Context
    from initkit.checks._orthogonal import _binomial_p

    ctx = Context("orthogonal", 3, {})
    assert _binomial_p(0, 10, ctx, 1) == pytest.approx(ctx.rng(99, 1).uniform() * 2 / 1024, rel=1e-12)
    more = 1 - sum(stats.binom.pmf(k, 10, 0.5) for k in (4, 5, 6))  # |6 − 5| = 1: P(|K − 5| > 1) + U·P(K ∈ {4, 6})
    assert _binomial_p(6, 10, ctx, 2) == pytest.approx(
        more + ctx.rng(99, 2).uniform() * 2 * stats.binom.pmf(6, 10, 0.5), rel=1e-12)


def test_bernstein_sum_interval_solves_the_bound_on_each_side():
    # V = 2, M₊ = 0.5, M₋ = 0.1, α = 1e-7, L = ln(2/α): s = LM/3 + √((LM/3)² + 2LV), and at that s
    # the Bernstein tail exp(−s²/(2(V + Ms/3))) is exactly α/2.
    big_l = math.log(2 / ALPHA)
    lo, hi = _stats.bernstein_sum_interval(2.0, 0.5, 0.1, ALPHA)
    for s, m in ((hi, 0.5), (lo, 0.1)):
        assert s == pytest.approx(big_l * m / 3 + math.sqrt((big_l * m / 3) ** 2 + 2 * big_l * 2.0), rel=1e-12)
        assert math.exp(-s**2 / (2 * (2.0 + m * s / 3))) == pytest.approx(ALPHA / 2, rel=1e-9)


def test_the_fourth_moment_law_of_a_unit_vector_matches_its_dirichlet_moments():
    """E Σqᵢ⁴ = 3/(m+2); Var from E qᵢ⁸ = 105/D, E qᵢ⁴q_k⁴ = 9/D, D = m(m+2)(m+4)(m+6): on the
    circle (m = 2), q = (cos θ, sin θ), Σqᵢ⁴ = 1 − sin²2θ/2 has mean 3/4 and variance 1/32."""
    from initkit.checks._orthogonal import fourth_moment_law

    assert fourth_moment_law(2) == pytest.approx((0.75, 1 / 32), rel=1e-12)
    assert fourth_moment_law(1) == pytest.approx((1.0, 0.0), abs=1e-12)  # ±1: Σqᵢ⁴ = 1 always
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400_000, 6))
    s4 = np.sum((x / np.linalg.norm(x, axis=1, keepdims=True)) ** 4, axis=1)
    mean, var = fourth_moment_law(6)
    assert abs(s4.mean() - mean) < 5 * math.sqrt(var / len(s4))
    assert s4.var() == pytest.approx(var, rel=0.02)  # relative s.e. of a variance ≈ √(2/n)·√(κ/2) < 0.4 %


def test_the_variance_of_the_column_mean_follows_the_covariance_of_two_haar_columns():
    """(v + (k − 1)·Cov)/k with Cov = 3((m − 2)E S + E S²)/(m² − 1) − (E S)²; on the circle
    (m = k = 2) the two columns (c, s), (−s, c) have equal S, so the mean has variance v."""
    from initkit.checks._orthogonal import fourth_moment_law, fourth_moment_mean_variance

    assert fourth_moment_mean_variance(2, 2) == pytest.approx(fourth_moment_law(2)[1], rel=1e-12)
    assert fourth_moment_mean_variance(7, 1) == fourth_moment_law(7)[1]
    q = stats.ortho_group.rvs(6, size=100_000, random_state=np.random.default_rng(1))[:, :, :3]
    s = np.sum(q**4, axis=1).mean(axis=1)
    assert s.var() == pytest.approx(fourth_moment_mean_variance(6, 3), rel=0.03)  # s.e. of the variance ≈ 0.6 %


def test_a_recorded_reference_check_reports_every_sub_test_p_value():
    """Under recording, the orthogonal distribution aspect reports its seven p-values, in [0, 1]."""
    from initkit.checks._engine import recording_null_p_values

    with recording_null_p_values() as sink, contextlib.redirect_stdout(io.StringIO()):
        checks.check_orthogonal(reference("orthogonal"), aspect="distribution", seed=0)
    assert [label for label, _ in sink] == [
        "distribution/fourth-moment-first", "distribution/fourth-moment-mean", "distribution/diagonal-positive",
        "distribution/diagonal-positive-per-position", "distribution/adjacent-signs-agree", "distribution/det-positive",
        "distribution/ks-haar-diagonal-entry"]
    assert all(0 <= p <= 1 for _, p in sink)


@pytest.mark.parametrize("target, bounded", [("xavier_uniform", True), ("kaiming_normal", False)])
def test_recorded_scale_and_distribution_p_values_are_labelled_per_case_and_sub_test(target, bounded):
    """What tools/null_pvalues.py reads: per case k, scale's mean, second moment and (a bounded
    law) its two edges; distribution's KS with the true standardisation and the four order
    tests; plus the exact repeat/reuse limits (1.0 = held). p-values in [0, 1], and not the same
    at another seed."""
    from initkit.checks._engine import recording_null_p_values

    def recorded(aspect: str, seed: int) -> list:
        with recording_null_p_values() as sink, contextlib.redirect_stdout(io.StringIO()):
            getattr(checks, f"check_{target}")(reference(target), aspect=aspect, seed=seed)
        return sink

    limits = ["repeats-below-limit-holds", "reused-values-below-limit-holds"]
    edges = ["reaches-lower-edge", "reaches-upper-edge"] if bounded else []
    orders = [f"order-axis{a}-{kind}" for a in (0, 1) for kind in ("value", "magnitude")]
    for aspect, per_case in (("scale", [*limits, "mean", "second-moment", *edges]),
                             ("distribution", ["ks-true-standardisation", "ks-decomposition-holds", *limits, *orders])):
        first, other = recorded(aspect, 0), recorded(aspect, 1)
        assert [label for label, _ in first] == [f"{aspect}/{k}/{name}" for k in (0, 1) for name in per_case]
        assert all(0 <= p <= 1 for _, p in first + other)
        assert [p for _, p in first] != [p for _, p in other]


def test_haar_cdf_is_the_law_of_one_coordinate_of_a_uniform_point_on_the_sphere():
    """Exact cases: on the sphere of R³ a coordinate is uniform on [−1, 1] (Archimedes); on the
    circle it is cos θ, θ uniform, so F(x) = 1 − arccos(x)/π. In R^m, q₁² ~ Beta(½, (m − 1)/2)."""
    from initkit.checks._orthogonal import _haar_cdf

    x = np.array([-1.0, -0.7, -0.2, 0.0, 0.3, 0.9, 1.0])
    assert _haar_cdf(x, 3) == pytest.approx((x + 1) / 2, abs=1e-12)
    assert _haar_cdf(x, 2) == pytest.approx(1 - np.arccos(x) / np.pi, abs=1e-12)
    for m in (5, 8):
        beta = stats.beta(0.5, (m - 1) / 2)
        assert _haar_cdf(x, m) == pytest.approx(0.5 + 0.5 * np.sign(x) * beta.cdf(x**2), abs=1e-12)


@pytest.mark.parametrize("a, b", [(-1.0, 4.0), (-3.0, 2.0)])
def test_second_moment_interval_of_a_lopsided_bounded_law_is_bernsteins(a, b):
    """N(1, 2²) truncated to [a, b], the upper bound farther from the mean or the lower one:
    the range of (x − μ)² is set by the farther bound, M = max((a − μ)², (b − μ)²). Moments
    from scipy.stats.truncnorm directly, Bernstein as in the docstring:
    t = (2LM/3 + √((2LM/3)² + 8nLv)) / (2n)."""
    n, alpha = 5000, 1e-6
    law = _laws.truncated_normal(1.0, 2.0, a, b)
    direct = stats.truncnorm((a - 1.0) / 2.0, (b - 1.0) / 2.0, loc=1.0, scale=2.0)
    mu, var = float(direct.mean()), float(direct.var())
    m4 = float(direct.expect(lambda x: (x - mu) ** 4))
    big_m, big_l, v = max((a - mu) ** 2, (b - mu) ** 2), math.log(2 / alpha), m4 - var**2
    t = (2 * big_l * big_m / 3 + math.sqrt((2 * big_l * big_m / 3) ** 2 + 8 * n * big_l * v)) / (2 * n)
    assert _stats.second_moment_interval(law, n, alpha) == pytest.approx((var - t, var + t), rel=1e-9)


def test_ks_distance_is_scipys_statistic():
    x = np.sort(np.random.default_rng(3).normal(size=257))
    assert _stats.ks_distance(stats.norm.cdf(x)) == pytest.approx(stats.kstest(x, "norm").statistic, abs=1e-15)


def test_a_constant_sample_is_as_far_as_can_be_from_any_law_once_standardised():
    """No spread, nothing to standardise by: distance 1 (0 and 0.5 have an exact mean and std 0)."""
    for value in (0.0, 0.5):
        assert _stats.standardised_ks_distance(_laws.normal(1.0), np.full(64, value)) == 1.0


def test_standardisation_errors_are_in_units_of_the_targets_std():
    """dm = z_{α/6}·σ/√n / σ for a normal law: the same whatever σ is."""
    n, alpha = 10_000, 1e-6
    for std in (0.01, 1.0, 30.0):
        dm, _, _ = _stats.standardisation_errors(_laws.normal(std), n, alpha)
        assert dm == pytest.approx(stats.norm.isf(alpha / 6) / math.sqrt(n), rel=1e-12)
