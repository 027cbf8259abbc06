"""Thresholds of the statistical sub-tests, each from an exact law or a conservative bound.

Every function takes the false-alarm probability ``alpha`` granted to that one sub-test and
returns the acceptance region a *correct* implementation falls into with probability at
least ``1 − alpha``. The formula is next to each threshold.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ._laws import Law


def mean_halfwidth(law: Law, n: int, alpha: float) -> float:
    """Half-width t with P(|x̄ − μ| > t) ≤ alpha.

    Normal: x̄ ~ N(μ, σ²/n) exactly, t = z_{α/2}·σ/√n.
    Bounded on [lo, hi]: Hoeffding, P(|x̄ − μ| ≥ t) ≤ 2·exp(−2nt²/(hi − lo)²),
    t = (hi − lo)·√(ln(2/α)/(2n)).
    """
    if law.bounded:
        return (law.hi - law.lo) * math.sqrt(math.log(2 / alpha) / (2 * n))
    return float(stats.norm.isf(alpha / 2)) * law.std / math.sqrt(n)


def second_moment_interval(law: Law, n: int, alpha: float) -> tuple[float, float]:
    """Interval for m₂ = mean((x − μ)²) (μ the target mean) holding with prob ≥ 1 − alpha.

    Normal: n·m₂/σ² ~ χ²(n) exactly, so m₂ ∈ σ²/n·[χ²_{α/2}(n), χ²_{1−α/2}(n)].
    Bounded: Y = (x − μ)² ∈ [0, M] with variance v = E(x−μ)⁴ − σ⁴; Bernstein,
    P(|Ȳ − σ²| ≥ t) ≤ 2·exp(−n t² / (2(v + M t/3))), solved for t:
    t = (2LM/3 + √((2LM/3)² + 8nLv)) / (2n), L = ln(2/α).
    """
    if not law.bounded:
        lo, hi = stats.chi2.ppf(alpha / 2, n), stats.chi2.isf(alpha / 2, n)
        return law.var * lo / n, law.var * hi / n
    big_l = math.log(2 / alpha)
    m = max((law.lo - law.mean) ** 2, (law.hi - law.mean) ** 2)
    v = law.central_m4 - law.var**2
    t = (2 * big_l * m / 3 + math.sqrt((2 * big_l * m / 3) ** 2 + 8 * n * big_l * v)) / (2 * n)
    return law.var - t, law.var + t


def top_quantile(law: Law, n: int, alpha: float) -> tuple[float, float]:
    """For a bounded law: q_lo, q_hi with P(min x > q_lo) ≤ alpha/2 and P(max x < q_hi) ≤ alpha/2.

    P(max x < q) = F(q)ⁿ; choosing 1 − F(q_hi) = p with (1 − p)ⁿ ≤ e^{−np} = alpha/2 gives
    p = ln(2/alpha)/n, q_hi = F⁻¹(1 − p); symmetrically q_lo = F⁻¹(p). A bound that is too
    small by even 1 % leaves the top 1 % of the support empty and fails this.
    """
    p = math.log(2 / alpha) / n
    return float(law.frozen.ppf(p)), float(law.frozen.isf(p))


def ks_threshold(n: int, alpha: float) -> float:
    """DKW with Massart's constant: P(sup|F̂ₙ − F| > t) ≤ 2·exp(−2nt²), t = √(ln(2/α)/(2n))."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def standardisation_errors(law: Law, n: int, alpha: float) -> tuple[float, float, float]:
    """(dm, r_lo, r_hi): with probability ≥ 1 − 2α/3, |x̄ − μ|/σ ≤ dm and s/σ ∈ [r_lo, r_hi].

    From mean_halfwidth(α/3) and second_moment_interval(α/3), using s² = m₂ − (x̄ − μ)².
    """
    a3 = alpha / 3
    dm = mean_halfwidth(law, n, a3) / law.std
    m2_lo, m2_hi = second_moment_interval(law, n, a3)
    var_lo = max((m2_lo - (dm * law.std) ** 2) / law.var, 1e-12)
    return dm, math.sqrt(var_lo), math.sqrt(m2_hi / law.var)


def standardised_support(law: Law, n: int, alpha: float) -> tuple[float, float]:
    """For a bounded law: limits that (min − x̄)/s and (max − x̄)/s stay within, with the
    same events as standardised_ks_threshold (no extra α): z ≤ ((hi − μ)/σ + dm)/r_lo."""
    dm, r_lo, _ = standardisation_errors(law, n, alpha)
    z_lo, z_hi = (law.lo - law.mean) / law.std, (law.hi - law.mean) / law.std
    return (z_lo - dm) / r_lo, (z_hi + dm) / r_lo


def standardised_ks_threshold(law: Law, n: int, alpha: float) -> float:
    """Threshold for sup|F̂ₙ(z) − F₀(z)| where z = (x − x̄)/s uses the *estimated* location and
    scale (so a scale mistake does not fail the shape test).

    With the true standardisation z* = (x − μ)/σ, DKW bounds the first term; moving from z*
    to z shifts the CDF by at most sup f₀·|x̄ − μ|/σ + sup|z f₀|·|ln(s/σ)|. Splitting alpha
    in three: DKW at α/3, |x̄ − μ| ≤ mean_halfwidth(α/3), and s² within
    second_moment_interval(α/3) around σ² (the sample variance s² = m₂ − (x̄ − μ)², so its
    relative error is bounded by those of m₂ and x̄).
    """
    sup_f, sup_zf = law.lipschitz
    dm, r_lo, r_hi = standardisation_errors(law, n, alpha)
    dlog = max(-math.log(r_lo), math.log(r_hi))
    return ks_threshold(n, alpha / 3) + sup_f * dm + sup_zf * dlog


def ks_distance(cdf_at_sorted: np.ndarray) -> float:
    """sup|F̂ₙ − F| given F at the sorted samples: max over i of i/n − F(x₍ᵢ₎) and F(x₍ᵢ₎) − (i−1)/n."""
    n = len(cdf_at_sorted)
    return float(max((np.arange(1, n + 1) / n - cdf_at_sorted).max(), (cdf_at_sorted - np.arange(n) / n).max()))


def standardised_ks_distance(law: Law, x: np.ndarray) -> float:
    """sup|F̂ₙ(z) − F₀(z)| for z = (x − x̄)/s."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    s = x.std()
    if not s > 0:
        return 1.0
    return ks_distance(law.standard_cdf((x - x.mean()) / s))


def binomial_interval(k_trials: int, alpha: float, p: float = 0.5) -> tuple[int, int]:
    """[lo, hi] holding Binomial(k, p) with probability ≥ 1 − alpha (exact tails ≤ α/2 each)."""
    lo = int(stats.binom.ppf(alpha / 2, k_trials, p))
    hi = int(stats.binom.isf(alpha / 2, k_trials, p))
    # ppf/isf give the boundary values whose tail may slightly exceed α/2: step outwards.
    while stats.binom.cdf(lo - 1, k_trials, p) > alpha / 2 and lo > 0:
        lo -= 1
    while stats.binom.sf(hi, k_trials, p) > alpha / 2 and hi < k_trials:
        hi += 1
    return lo, hi


#: The tail-count test of a normal law: the share of values beyond TAIL_Z target std from the
#: mean, P(|Z| > 2.5) = 2Φ(−2.5) = 0.012419. A normal truncated at ±2σ and rescaled to the
#: right variance stops at 2/0.8796 = 2.27 std, a clipped one piles up at ±2 std, a uniform
#: stops at √3 = 1.73 std: all put nothing there.
TAIL_Z = 2.5


def normal_tail_share() -> float:
    return float(2 * stats.norm.sf(TAIL_Z))


def repeat_limit(n: int, p_level: float, alpha: float) -> int:
    """The smallest m with P(some value occurs ≥ m times among n i.i.d. draws) ≤ alpha, when no
    value has probability above p_level (``Law.level_p_max``). Union bound over values v and
    m-subsets of draws: P ≤ Σ_v C(n, m)·p_v^m ≤ C(n, m)·p_level^(m−1)·Σ_v p_v = C(n, m)·p_level^(m−1).
    (n = 2·10⁵, p = 2⁻²³, α = 1e-9: m = 8. A clipped law puts thousands on each bound.)"""
    log_alpha = math.log(alpha)
    m = 2
    while (math.lgamma(n + 1) - math.lgamma(m + 1) - math.lgamma(n - m + 1)
           + (m - 1) * math.log(p_level)) > log_alpha:
        m += 1
    return m


def duplicate_limit(n: int, p_level: float, alpha: float) -> float:
    """A bound t with P(n − D ≥ t) ≤ alpha, D the number of distinct values among n i.i.d. draws
    of |x − μ| (x folded about the target mean, so that a value and its mirror image count as
    equal — what antithetic sampling produces).

    E(n − D) ≤ E(#pairs i < j with equal values) = C(n, 2)·Σ_v q_v² ≤ C(n, 2)·q_max, where a
    folded value v has q_v ≤ 2·p_level (two raw values fold onto it); D changes by ≤ 1 when one
    draw changes, so McDiarmid gives P(n − D ≥ E(n − D) + s) ≤ exp(−2s²/n), s = √(n·ln(1/α)/2).
    (n = 1.2·10⁵ float32 draws from torch's 2²⁴-level uniform_: ~430 colliding pairs expected;
    a run of antithetic pairs repeats n/2 folded values, a repeated block or a broadcast row
    more.)"""
    return n * (n - 1) / 2 * 2 * p_level + math.sqrt(n * math.log(1 / alpha) / 2)


# --- Null p-values, for calibration only (tools/calibrate.py). Each is the p-value of the
# statistic the matching threshold above judges, uniform on [0, 1] when the samples follow
# the law: exactly, or by the CLT at the n ≥ 10⁴ the checks use.

def mean_p_value(law: Law, mean: float, n: int) -> float:
    """Two-sided z-test of x̄: z = (x̄ − μ)·√n/σ, p = 2·Φ(−|z|) (exact for a normal law)."""
    z = (mean - law.mean) * math.sqrt(n) / law.std
    return float(2 * stats.norm.sf(abs(z)))


def second_moment_p_value(law: Law, m2: float, n: int) -> float:
    """Normal: n·m₂/σ² ~ χ²(n), two-sided. Bounded: z = (m₂ − σ²)/√(v/n), v = E(x−μ)⁴ − σ⁴."""
    if not law.bounded:
        c = n * m2 / law.var
        return float(min(1.0, 2 * min(stats.chi2.cdf(c, n), stats.chi2.sf(c, n))))
    z = (m2 - law.var) / math.sqrt((law.central_m4 - law.var**2) / n)
    return float(2 * stats.norm.sf(abs(z)))


def edge_p_values(law: Law, lo: float, hi: float, n: int) -> tuple[float, float]:
    """(P(min ≥ lo), P(max ≤ hi)) = ((1 − F(lo))ⁿ, F(hi)ⁿ): exactly uniform for i.i.d. draws."""
    return _none_beyond(float(law.frozen.cdf(lo)), n), _none_beyond(float(law.frozen.sf(hi)), n)


def _none_beyond(p_out: float, n: int) -> float:
    """(1 − p_out)ⁿ, the probability that none of n draws falls in a region of probability
    p_out: exp(n·log1p(−p_out)) keeps its precision for tiny p_out; 0 when p_out = 1."""
    return 0.0 if p_out >= 1.0 else math.exp(n * math.log1p(-p_out))


def randomised_binomial_p_value(k: int, n: int, p: float, u: float) -> float:
    """Two-sided randomised p-value of k ~ Binomial(n, p): with P₊ = P(K > k) + u·P(K = k) (u
    uniform on [0, 1], independent of k) uniform on [0, 1], p = 2·min(P₊, 1 − P₊) is too."""
    upper = float(stats.binom.sf(k, n, p) + u * stats.binom.pmf(k, n, p))
    return min(1.0, 2 * min(upper, 1 - upper))


def ks_p_value(d: float, n: int) -> float:
    """Kolmogorov's exact two-sided law of sup|F̂ₙ − F| against a fully specified F."""
    return float(stats.kstwo.sf(d, n))


def true_ks_distance(law: Law, x: np.ndarray) -> tuple[float, float]:
    """(D*, bound): D* = sup|F̂ₙ − F₀| for the *true* standardisation z* = (x − μ)/σ, and the
    deterministic bound D* + sup f₀·|x̄ − μ|/σ + sup|z f₀|·|ln(s/σ)| that the estimated-
    standardisation distance may never exceed (the decomposition standardised_ks_threshold
    rests on)."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    d_true = ks_distance(law.standard_cdf((x - law.mean) / law.std))
    sup_f, sup_zf = law.lipschitz
    dm = abs(x.mean() - law.mean) / law.std
    dlog = abs(math.log(x.std() / law.std))
    return d_true, d_true + sup_f * dm + sup_zf * dlog


def bernstein_sum_interval(variance_sum: float, above: float, below: float, alpha: float) -> tuple[float, float]:
    """(s_lo, s_hi): a sum S = Σ Yᵢ of independent centred variables with Σ Var Yᵢ ≤ V,
    Yᵢ ≤ ``above`` and −Yᵢ ≤ ``below`` stays within [−s_lo, s_hi] with probability ≥ 1 − alpha.

    Bernstein, one side at a time with α/2 each: P(S ≥ s) ≤ exp(−s²/(2(V + M s/3))), solved
    for s: s = LM/3 + √((LM/3)² + 2LV), L = ln(2/α), M the bound on that side (so a variable
    bounded close to its mean on one side gets a tight threshold there).
    """
    big_l = math.log(2 / alpha)

    def side(m: float) -> float:
        return big_l * m / 3 + math.sqrt((big_l * m / 3) ** 2 + 2 * big_l * variance_sum)

    return side(below), side(above)
