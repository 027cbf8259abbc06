"""Statistical thresholds for the parity tests, each derived analytically.

Every random parity test runs at fixed seeds, so its verdict never flips on a re-run; the
thresholds below bound the probability, over the choice of seed, that a *correct*
implementation fails. Each pytest test gets a budget of ``ALPHA = 1e-6`` and splits it
(Bonferroni) across its statistical sub-checks, e.g. ``alpha=ALPHA / 4`` for four checks.

Contents
--------
- ``ks_two_sample_threshold`` / ``assert_same_distribution``: two-sample Kolmogorov–Smirnov
  (Wei & Dudley's two-sample DKW inequality), raw values, so scale errors show.
- ``ks_one_sample_threshold`` / ``assert_matches_cdf``: one-sample KS against an exact CDF
  (Massart's DKW inequality).
- ``Law``: exact mean, central moments (2..6), CDF and support of the target distributions
  (uniform, normal, truncated normal, the entry of a Haar orthogonal matrix).
- ``assert_moments``: mean and variance of a sample against the formula's, with a z-bound
  from the statistic's own sampling distribution.
- ``extreme_floor``: how close the sample extremes must come to a bounded support.
- ``bn_tolerance``: elementwise rounding-error bound for batch normalization in float32 /
  float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import integrate, stats

#: false-alarm budget of one pytest test (probability that a correct implementation fails)
ALPHA = 1e-6

U32 = 2.0**-24  #: unit roundoff of float32
U64 = 2.0**-53  #: unit roundoff of float64


# ---------------------------------------------------------------- Kolmogorov–Smirnov


def ks_two_sample_threshold(n: int, m: int, alpha: float = ALPHA) -> float:
    r"""Critical value :math:`t` with :math:`P(D_{n,m} > t) \le \alpha` under H0 (same law).

    For equal sizes :math:`n = m \ge 458`, Wei & Dudley (2012, *Stat. Probab. Lett.* 82,
    636–644, "Two-sample Dvoretzky–Kiefer–Wolfowitz inequalities") prove the two-sample
    DKW–Massart inequality

    .. math:: P\Big(\sqrt{\tfrac{nm}{n+m}}\,D_{n,m} \ge M\Big) \le 2 e^{-2M^2},

    hence :math:`t = \sqrt{\ln(2/\alpha)\,(n+m)/(2nm)}` (:math:`= \sqrt{\ln(2/\alpha)/n}`
    for :math:`n = m`; 0.01205 at :math:`n = 10^5`, :math:`\alpha = 10^{-6}`).

    For :math:`n \ne m` (or :math:`n < 458`) we fall back to the triangle inequality
    :math:`D_{n,m} \le \sup|F_n - F| + \sup|G_m - F|` and Massart's one-sample bound for each
    term at level :math:`\alpha/2`:
    :math:`t = \sqrt{\ln(4/\alpha)/(2n)} + \sqrt{\ln(4/\alpha)/(2m)}`.

    Ties (float32 data) only lower :math:`D` (its values at tied points are a subset of the
    tie-broken statistic's), so both bounds stay conservative. The samples must be
    independent i.i.d. draws — pooled entries of one orthogonal matrix are *not*.
    """
    if n == m and n >= 458:
        return math.sqrt(math.log(2.0 / alpha) * (n + m) / (2.0 * n * m))
    return math.sqrt(math.log(4.0 / alpha) / (2.0 * n)) + math.sqrt(math.log(4.0 / alpha) / (2.0 * m))


def ks_one_sample_threshold(n: int, alpha: float = ALPHA) -> float:
    r"""Critical value for :math:`D_n = \sup_x |F_n(x) - F(x)|` against an exact continuous CDF.

    Massart (1990): :math:`P(\sqrt n D_n > \lambda) \le 2e^{-2\lambda^2}` for every
    :math:`\lambda`, so :math:`t = \sqrt{\ln(2/\alpha)/(2n)}`.
    """
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def _flat64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).ravel()


def assert_same_distribution(x, y, alpha: float = ALPHA, label: str = "") -> float:
    """Two-sample KS on the raw values of ``x`` and ``y``; returns the statistic."""
    x, y = _flat64(x), _flat64(y)
    assert np.isfinite(x).all() and np.isfinite(y).all(), f"{label}: non-finite values"
    d = stats.ks_2samp(x, y, method="asymp").statistic
    t = ks_two_sample_threshold(x.size, y.size, alpha)
    assert d <= t, (
        f"{label}: two-sample KS D = {d:.5f} > {t:.5f} (n = {x.size}, m = {y.size}, "
        f"alpha = {alpha:.1e}); means {x.mean():.6g} vs {y.mean():.6g}, "
        f"stds {x.std():.6g} vs {y.std():.6g}"
    )
    return d


def assert_matches_cdf(x, cdf: Callable, alpha: float = ALPHA, label: str = "") -> float:
    """One-sample KS of ``x`` against the exact ``cdf``; returns the statistic."""
    x = _flat64(x)
    d = stats.kstest(x, cdf, method="asymp").statistic
    t = ks_one_sample_threshold(x.size, alpha)
    assert d <= t, f"{label}: one-sample KS D = {d:.5f} > {t:.5f} (n = {x.size}, alpha = {alpha:.1e})"
    return d


# ---------------------------------------------------------------- target laws


@dataclass
class Law:
    """A target distribution: exact mean, central moments ``mu[k]`` (k = 2..6), CDF, support."""

    name: str
    mean: float
    mu: dict  # central moments, keys 2..6
    cdf: Callable
    lo: float = -math.inf
    hi: float = math.inf
    ppf: Callable | None = field(default=None, repr=False)

    @property
    def var(self) -> float:
        return self.mu[2]


def uniform_law(bound: float) -> Law:
    """U(−b, b): central moments b^k/(k+1) for even k, 0 for odd k (kurtosis 9/5)."""
    b = float(bound)
    mu = {k: (b**k / (k + 1) if k % 2 == 0 else 0.0) for k in range(2, 7)}
    d = stats.uniform(loc=-b, scale=2 * b)
    return Law(f"U(±{b:.4g})", 0.0, mu, d.cdf, -b, b, d.ppf)


def normal_law(std: float, mean: float = 0.0) -> Law:
    """N(mean, std²): central moments σ², 0, 3σ⁴, 0, 15σ⁶ (kurtosis 3)."""
    s = float(std)
    mu = {2: s**2, 3: 0.0, 4: 3 * s**4, 5: 0.0, 6: 15 * s**6}
    d = stats.norm(loc=mean, scale=s)
    return Law(f"N({mean:.4g}, {s:.4g}²)", float(mean), mu, d.cdf, ppf=d.ppf)


def truncnorm_law(mean: float, std: float, a: float, b: float) -> Law:
    """N(mean, std²) restricted to the absolute interval [a, b]; moments by quadrature."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    d = stats.truncnorm(alpha, beta, loc=mean, scale=std)
    z = stats.truncnorm(alpha, beta)  # standardised: integrate on a scale of order 1
    mz = float(z.mean())
    mu = {}
    for k in range(2, 7):
        integral = integrate.quad(lambda t, k=k: (t - mz) ** k * z.pdf(t), alpha, beta,
                                  epsabs=1e-12, epsrel=1e-11, limit=200)[0]
        mu[k] = integral * std**k
    m = mean + std * mz
    return Law(f"TN({mean:.4g}, {std:.4g}²; [{a:.4g}, {b:.4g}])", m, mu, d.cdf, float(a), float(b), d.ppf)


def haar_entry_law(n: int, gain: float = 1.0) -> Law:
    r"""Law of one entry of :math:`g\,Q`, :math:`Q` Haar with orthonormal rows (or columns) of
    length :math:`n = \max(\text{rows}, \text{cols})`: a coordinate of a uniform point on
    :math:`S^{n-1}`, i.e. :math:`(q/g + 1)/2 \sim \mathrm{Beta}(\tfrac{n-1}2, \tfrac{n-1}2)`."""
    p = (n - 1) / 2.0
    d = stats.beta(p, p, loc=-abs(gain), scale=2 * abs(gain))
    mu = {k: float(d.moment(k)) if k % 2 == 0 else 0.0 for k in range(2, 7)}  # raw = central (mean 0)
    return Law(f"Haar entry (n={n}, gain={gain})", 0.0, mu, d.cdf, -abs(gain), abs(gain), d.ppf)


# ---------------------------------------------------------------- moments


def z_two_sided(alpha: float) -> float:
    """z with P(|N(0,1)| > z) = alpha: ``norm.isf(alpha/2)`` (4.892 for alpha = 1e-6)."""
    return float(stats.norm.isf(alpha / 2.0))


def mean_tolerance(var_g: float, mu3_g: float, n: int, alpha: float) -> float:
    r"""Half-width for the mean of ``n`` i.i.d. copies of a statistic ``g`` of variance
    ``var_g`` and third central moment ``mu3_g``.

    CLT z-bound with the first Cornish–Fisher (Edgeworth) term, which widens the interval by
    the skewness :math:`\gamma = \mu_3/(\sigma^3\sqrt n)` of the mean:
    :math:`(z + |\gamma|(z^2-1)/6)\,\sigma_g/\sqrt n`, :math:`z` = ``z_two_sided(alpha)``.
    """
    if var_g <= 0:
        return 0.0
    z = z_two_sided(alpha)
    gamma = abs(mu3_g) / var_g**1.5 / math.sqrt(n)
    return (z + gamma * (z * z - 1) / 6.0) * math.sqrt(var_g / n)


def assert_moments(x, law: Law, alpha: float = ALPHA, label: str = "") -> None:
    r"""Sample mean and variance of ``x`` against the exact ``law`` (budget ``alpha``, split 2).

    - mean: :math:`\bar x`, variance :math:`\mu_2/n`, third moment :math:`\mu_3`;
    - variance: :math:`\overline{(x-\mu)^2}` about the *known* mean :math:`\mu`, an unbiased
      estimator of :math:`\mu_2` with variance :math:`(\mu_4 - \mu_2^2)/n` (uniform:
      :math:`\tfrac{4}{45}b^4`, normal: :math:`2\sigma^4`) and third central moment
      :math:`\mu_6 - 3\mu_4\mu_2 + 2\mu_2^3`.

    Both use ``mean_tolerance``; the variance is the *formula's* variance, so a wrong scale
    fails here with the ratio printed.
    """
    x = _flat64(x)
    n = x.size
    mu = law.mu
    tol_m = mean_tolerance(mu[2], mu[3], n, alpha / 2)
    xm = x.mean()
    assert abs(xm - law.mean) <= tol_m, (
        f"{label}: mean {xm:.6g}, expected {law.mean:.6g} ± {tol_m:.3g} ({law.name}, n = {n})"
    )
    dev2 = (x - law.mean) ** 2
    var_g = mu[4] - mu[2] ** 2
    mu3_g = mu[6] - 3 * mu[4] * mu[2] + 2 * mu[2] ** 3
    tol_v = mean_tolerance(var_g, mu3_g, n, alpha / 2)
    v = dev2.mean()
    assert abs(v - mu[2]) <= tol_v, (
        f"{label}: variance {v:.6g} = {v / mu[2]:.5f} × the formula's {mu[2]:.6g} "
        f"(tolerance ± {tol_v / mu[2]:.2e} relative; {law.name}, n = {n})"
    )


# ---------------------------------------------------------------- support


def extreme_floor(law: Law, n: int, alpha: float) -> tuple[float, float]:
    r"""``(lo_ceiling, hi_floor)``: the sample max must reach ``hi_floor`` and the min must
    reach down to ``lo_ceiling``, each failing a correct sampler with probability ≤ alpha/2.

    :math:`P(\max < F^{-1}(1-p)) = (1-p)^n \le e^{-np}`; with :math:`p = \ln(2/\alpha)/n`
    that is :math:`\alpha/2` (likewise for the min). For :math:`U(\pm b)` this is
    :math:`b(1 - 2\ln(2/\alpha)/n)`: a bound 0.03 % too small is caught at :math:`n=10^5`.
    """
    p = math.log(2.0 / alpha) / n
    return float(law.ppf(p)), float(law.ppf(1.0 - p))


def assert_support(x, law: Law, alpha: float = ALPHA, label: str = "", float32: bool = False) -> None:
    """Exact support ``[law.lo, law.hi]`` (in float32: the bounds rounded to float32, as the
    frameworks compare in the tensor's dtype) and extremes that reach near both ends."""
    x = _flat64(x)
    lo, hi = law.lo, law.hi
    if float32:
        # float32 output: the framework rounds the bound to float32 and rounds once more when
        # scaling, so allow one float32 ulp beyond the rounded bound (a real mistake in a
        # bound is thousands of ulps).
        lo = float(np.nextafter(np.float32(lo), np.float32(-np.inf)))
        hi = float(np.nextafter(np.float32(hi), np.float32(np.inf)))
    assert x.min() >= lo and x.max() <= hi, (
        f"{label}: values outside the support [{lo!r}, {hi!r}]: min {x.min()!r}, max {x.max()!r}"
    )
    lo_ceiling, hi_floor = extreme_floor(law, x.size, alpha)
    assert x.max() >= hi_floor and x.min() <= lo_ceiling, (
        f"{label}: extremes [{x.min():.6g}, {x.max():.6g}] do not reach "
        f"[{lo_ceiling:.6g}, {hi_floor:.6g}] (support [{law.lo:.6g}, {law.hi:.6g}], n = {x.size}): "
        "bound too small?"
    )


# ---------------------------------------------------------------- batch norm rounding


def bn_tolerance(x, gamma, beta, axes, eps: float, u: float, safety: float = 4.0) -> np.ndarray:
    r"""Elementwise bound on the rounding error of training-mode BN computed in precision ``u``
    (``U32`` or ``U64``) from the *same* input ``x`` (so input rounding is not an error).

    Rounding model (Higham, *Accuracy and Stability*, §3–4: any order of summing :math:`n`
    terms errs by at most :math:`\gamma_{n} \sum|x_i|`, :math:`\gamma_k = ku/(1-ku)`):

    - batch mean: :math:`|\tilde m - \mu| \le \delta_m = \gamma_{n+1}\,\overline{|x|}`;
    - two-pass variance :math:`\overline{(x-\tilde m)^2}` (``tf.nn.moments``, torch):
      :math:`\tilde v = (\sigma^2 + \delta_m^2)(1+\theta)`, :math:`|\theta| \le \gamma_{n+4}`;
    - :math:`(\tilde v + \varepsilon)^{-1/2}`: relative error
      :math:`\le \tfrac12|\theta| + \delta_m^2/(2\sigma_\varepsilon^2) + 3u`,
      :math:`\sigma_\varepsilon = \sqrt{\sigma^2+\varepsilon}`;
    - output, either :math:`\gamma(x-\tilde m)r + \beta` (torch) or TF's
      :math:`x\cdot(\gamma r) + (\beta - \tilde m\gamma r)`: a few roundings of terms of size
      :math:`|\gamma|(|x| + |\tilde m|)/\sigma_\varepsilon` and :math:`|\beta|`.

    Hence, with :math:`\hat x = (x-\mu)/\sigma_\varepsilon`,

    .. math:: |\Delta y| \le |\gamma|\Big[\frac{\delta_m + 4u(|x| + |\mu|)}{\sigma_\varepsilon}
              + |\hat x|\big(\tfrac12\gamma_{n+4} + 3u + \tfrac{\delta_m^2}{2\sigma_\varepsilon^2}\big)\Big]
              + 3u\,(|\beta| + |y|)

    times ``safety`` (second-order terms, 1–2 ulp library ``rsqrt``). The error therefore
    grows like :math:`u\,n\,(1 + |\mu|/\sigma)`: linearly in the mean-to-std ratio for the
    two-pass variance (it would grow with :math:`\mu^2/\sigma^2` for the one-pass
    :math:`E x^2 - (Ex)^2`, which Keras uses only in its synchronized, multi-replica path).
    """
    x = np.asarray(x, dtype=np.float64)
    shape = [1] * x.ndim
    ch_axis = [i for i in range(x.ndim) if i not in axes][0]
    shape[ch_axis] = x.shape[ch_axis]
    g = np.abs(np.asarray(gamma, dtype=np.float64)).reshape(shape)
    b = np.abs(np.asarray(beta, dtype=np.float64)).reshape(shape)
    n = x.size // x.shape[ch_axis]
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    s_eps = np.sqrt(var + eps)
    gam = lambda k: k * u / (1 - k * u)  # noqa: E731
    dm = gam(n + 1) * np.abs(x).mean(axis=axes, keepdims=True)
    xhat = np.abs(x - mu) / s_eps
    y = np.abs(g * xhat) + b
    bound = g * ((dm + 4 * u * (np.abs(x) + np.abs(mu))) / s_eps
                 + xhat * (0.5 * gam(n + 4) + 3 * u + dm**2 / (2 * s_eps**2))) + 3 * u * (b + y)
    return safety * bound
