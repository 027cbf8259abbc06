"""The target laws a random initializer must follow, with the moments the tests need.

Each law knows its mean, variance, fourth central moment, support, CDF and
``sup_z |z f(z)|`` / ``sup_z f(z)`` of its *standardised* form — the Lipschitz constants that
bound how far an estimated scale or location can move the standardised CDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class Law:
    """A continuous law given by a frozen scipy distribution and a short description."""

    name: str
    frozen: object  # scipy.stats frozen distribution
    lo: float = -math.inf
    hi: float = math.inf
    fast_cdf: Callable[[np.ndarray], np.ndarray] | None = None  # same CDF, vectorised cheaply
    kind: str = ""  # "uniform", "normal" (untruncated) or "truncated_normal": the family tests read it

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    @cached_property
    def mean(self) -> float:
        return float(self.frozen.mean())

    @cached_property
    def var(self) -> float:
        return float(self.frozen.var())

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    @cached_property
    def central_m4(self) -> float:
        """E(x − μ)⁴, from the raw moments."""
        mu = self.mean
        m1, m2, m3, m4 = (float(self.frozen.moment(k)) for k in (1, 2, 3, 4))
        return m4 - 4 * mu * m3 + 6 * mu**2 * m2 - 3 * mu**4

    def standard_cdf(self, z: np.ndarray) -> np.ndarray:
        """CDF of (x − μ)/σ."""
        cdf = self.fast_cdf or self.frozen.cdf
        return cdf(self.mean + self.std * np.asarray(z))

    @cached_property
    def lipschitz(self) -> tuple[float, float]:
        """(sup |f₀(z)|, sup |z·f₀(z)|) of the standardised density f₀, on a fine grid
        (the densities here are smooth or piecewise constant; a 1e-3 margin covers the grid)."""
        z = np.linspace(-12, 12, 240_001)
        f0 = self.std * self.frozen.pdf(self.mean + self.std * z)
        return float(f0.max()) * 1.001 + 1e-3, float(np.abs(z * f0).max()) * 1.001 + 1e-3

    @cached_property
    def level_p_max(self) -> float:
        """An upper bound on the probability that one draw of a *correct* implementation equals
        any one given float value — what makes exact repeats possible at all.

        Two sources of repeats, the coarser wins: (a) the random source — float32 uniforms carry
        23 (TensorFlow/Keras) or 24 (NumPy ``random(dtype=float32)``, torch ``uniform_``) random
        bits, so a value made from one uniform has probability ≤ 2⁻²³; (b) float32 rounding of
        the output — the float32 value v collects the probability f(v)·ulp(v) of its rounding
        interval. (b) is maximised on a grid of 24,001 points over μ ± 12σ (step σ/1000, where f
        varies by < 1 %), with a 2 % margin. A float64 output is finer than both."""
        z = np.linspace(-12, 12, 24_001)
        x = self.mean + self.std * z
        if self.bounded:
            x = np.concatenate([x[(x >= self.lo) & (x <= self.hi)], [self.lo, self.hi]])
        ulp32 = np.spacing(np.abs(x).astype(np.float32)).astype(np.float64)
        rounding = float(np.max(self.frozen.pdf(x) * ulp32))  # v's rounding interval is ≤ ulp(v) long
        return max(2.0**-23, rounding * 1.02)

    def __str__(self) -> str:
        return self.name


def uniform(bound: float, center: float = 0.0) -> Law:
    return Law(f"U({center - bound:.4g}, {center + bound:.4g})",
               stats.uniform(loc=center - bound, scale=2 * bound), center - bound, center + bound,
               kind="uniform")


def normal(std: float, mean: float = 0.0) -> Law:
    return Law(f"N({mean:.4g}, {std:.4g}²)", stats.norm(loc=mean, scale=std), kind="normal")


def truncated_normal(mean: float, std: float, a: float, b: float) -> Law:
    alpha, beta = (a - mean) / std, (b - mean) / std
    return Law(f"N({mean:.4g}, {std:.4g}²) truncated to [{a:.4g}, {b:.4g}]",
               stats.truncnorm(alpha, beta, loc=mean, scale=std), a, b,
               fast_cdf=lambda x: _truncated_normal_cdf((np.asarray(x) - mean) / std, alpha, beta),
               kind="truncated_normal")


def _truncated_normal_cdf(z: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """F(z) = (Φ(z) − Φ(α)) / (Φ(β) − Φ(α)) on [α, β], with Φ = special.ndtr — about 20×
    faster than scipy's generic truncnorm.cdf. Right of the mean (α > 0) the same formula is
    written with upper tails Φ(−z), which keep their precision there."""
    z = np.clip(z, alpha, beta)
    if alpha > 0:
        top = special.ndtr(-alpha)
        return (top - special.ndtr(-z)) / (top - special.ndtr(-beta))
    bottom = special.ndtr(alpha)
    return (special.ndtr(z) - bottom) / (special.ndtr(beta) - bottom)
