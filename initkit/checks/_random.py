"""Aspects shared by every random initializer: interface, scale, distribution, arguments,
errors and rng. A ``RandomSpec`` says what the function is and what law each call must
follow; ``random_aspects(spec)`` builds the aspect functions from it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from . import _stats
from . import _engine
from ._engine import (CheckFailed, Context, call_for_array, calls_for_array, describe_for, expect_value_error, fmt, ratio,
                      rng_words)
from ._laws import Law

#: samples drawn per case: scale/distribution cases and argument cases.
N_SCALE = 120_000
N_ARGUMENT = 40_000
N_DISTRIBUTION = 400_000  # KS must see a 0.017 CDF gap (truncated vs plain normal)


@dataclass(frozen=True)
class Case:
    shape: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass
class RandomSpec:
    name: str
    law: Callable[..., Law]          # law(shape, **kwargs) -> the correct law of every entry
    scale_shapes: Callable[[Context], list]   # shapes for scale/distribution at default args
    argument_cases: Callable[[Context], list]  # Cases exercising every argument
    interface_shapes: tuple = ((4, 3), (6, 5, 3, 3))
    error_cases: tuple = ()          # (kwargs, why) pairs that must raise ValueError
    distribution_cases: Callable[[Context], list] | None = None  # defaults to scale shapes
    layout: str = "torch"            # the shape layout of the contract

    @property
    def arguments(self) -> tuple:
        """The contract's keyword arguments besides shape and rng (those ``fixed`` may hold)."""
        import inspect

        params = inspect.signature(self.law).parameters
        return tuple(p for p in params if p != "shape" and params[p].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)


def free_cases(cases: list, fixed: dict) -> list:
    """The cases with the arguments a preset fixes removed, repeats dropped (order kept)."""
    free = [Case(c.shape, {k: v for k, v in c.kwargs.items() if k not in fixed}) for c in cases]
    return list({(c.shape, tuple(sorted(c.kwargs.items()))): c for c in free}.values())


def draw(fn, spec: RandomSpec, case: Case, n_target: int, rng: np.random.Generator, fixed: dict) -> np.ndarray:
    """Call fn on case.shape as often as needed to collect ≥ n_target values, one rng stream.
    Arguments in ``fixed`` are the function's own (a preset): not passed."""
    kwargs = {k: v for k, v in case.kwargs.items() if k not in fixed}
    size = math.prod(case.shape)
    calls = max(1, math.ceil(n_target / size))
    parts = [out.ravel() for out in calls_for_array(fn, spec.name, case.shape, calls, rng=rng, **kwargs)]
    if calls > 1 and size > 1 and np.array_equal(parts[0], parts[1]):
        source, _, _ = rng_words(fn)
        raise CheckFailed(
            f"two calls {describe_for(fn, spec.name, (case.shape,), {'rng': rng, **kwargs})} in a row "
            f"with the same generator returned identical values: your function must draw from "
            f"{source}, which advances at every call (a fixed seed inside?)."
        )
    return np.concatenate(parts)


def _float_slack(x: np.ndarray, bound: float) -> float:
    """Rounding room at a support bound: one ulp of the output dtype at |bound|."""
    return float(np.spacing(np.asarray(abs(bound), dtype=x.dtype))) * 2


def assert_scale(spec: RandomSpec | None, case: Case | None, x: np.ndarray, law: Law, alpha: float, tag: str,
                 *, where: str = "", edges: bool = True) -> None:
    """Support (exact), reaching the support edges (unless ``edges`` is False: the whole-model
    checks leave that to their distribution aspect), mean and second moment about the target
    mean — α split over the three random sub-tests. ``tag`` labels them for calibration;
    ``where`` names the values in messages (default: the case's shape and arguments)."""
    where = where or f"on shape {case.shape}" + (f" with {_kw(case.kwargs)}" if case.kwargs else "")
    n, a3 = x.size, alpha / 3
    if _engine.recording():
        _record_scale_p_values(tag, x, law)
    if law.bounded:
        slack = _float_slack(x, max(abs(law.lo), abs(law.hi)))
        lo, hi = float(x.min()), float(x.max())
        if lo < law.lo - slack or hi > law.hi + slack:
            raise CheckFailed(
                f"values outside the support {where}: the target {law} lies in "
                f"[{fmt(law.lo)}, {fmt(law.hi)}], yours reach [{fmt(lo)}, {fmt(hi)}]"
                f"{ratio(max(abs(lo), abs(hi)), max(abs(law.lo), abs(law.hi)))}."
            )
    half = _stats.mean_halfwidth(law, n, a3)
    mean = float(x.mean())
    m2 = float(np.mean((x - law.mean) ** 2))
    m2_lo, m2_hi = _stats.second_moment_interval(law, n, a3)
    # Same verdict either way; the message names the cause: a 3× spread also moves the sample
    # mean by 3× the noise the mean test allows, so report the spread when the values' own
    # variance is off too, and the mean when only the mean moved.
    spread_is_off = not (m2_lo <= m2 <= m2_hi or m2_lo <= float(x.var()) <= m2_hi)
    if abs(mean - law.mean) > half and not spread_is_off:
        raise CheckFailed(
            f"mean off {where}: expected {fmt(law.mean)}, observed {fmt(mean)} "
            f"(a correct function lands within ±{fmt(half)} over {n} samples)."
        )
    if not m2_lo <= m2 <= m2_hi:
        failure = CheckFailed(
            f"spread off {where}: expected std {fmt(law.std)}, observed {fmt(math.sqrt(m2))}"
            f"{ratio(math.sqrt(m2), law.std)} (target {law}; a correct function lands within "
            f"[{fmt(math.sqrt(m2_lo))}, {fmt(math.sqrt(m2_hi))}] over {n} samples)."
        )
        failure.std_ratio = math.sqrt(m2) / law.std  # the diagnosis repeats this number, never another
        raise failure
    if law.bounded and edges:
        q_lo, q_hi = _stats.top_quantile(law, n, a3)
        if lo > q_lo or hi < q_hi:
            raise CheckFailed(
                f"values never come near the ends of the support {where}: the target {law} "
                f"fills [{fmt(law.lo)}, {fmt(law.hi)}], yours stay within [{fmt(lo)}, {fmt(hi)}] "
                f"over {n} samples (a correct function exceeds [{fmt(q_lo)}, {fmt(q_hi)}] "
                "with near certainty) — is the bound too small?"
            )


def _record_scale_p_values(tag: str, x: np.ndarray, law: Law) -> None:
    n = x.size
    _engine.record(f"{tag}/mean", _stats.mean_p_value(law, float(x.mean()), n))
    _engine.record(f"{tag}/second-moment", _stats.second_moment_p_value(law, float(np.mean((x - law.mean) ** 2)), n))
    if law.bounded:
        p_min, p_max = _stats.edge_p_values(law, float(x.min()), float(x.max()), n)
        _engine.record(f"{tag}/reaches-lower-edge", p_min)
        _engine.record(f"{tag}/reaches-upper-edge", p_max)


def _record_ks_p_values(tag: str, x: np.ndarray, law: Law, d_estimated: float) -> None:
    d_true, bound = _stats.true_ks_distance(law, x)
    _engine.record(f"{tag}/ks-true-standardisation", _stats.ks_p_value(d_true, x.size))
    _engine.record(f"{tag}/ks-decomposition-holds", float(d_estimated <= bound + 1e-12))


def assert_family(x: np.ndarray, law: Law, alpha: float, tag: str, where: str) -> None:
    """The family, judged on standardised values so a scale mistake does not fail it: for a
    bounded law the standardised support (no extra α), then KS against the standardised
    target with the threshold of ``_stats.standardised_ks_threshold`` (α)."""
    if law.bounded:
        z_lo, z_hi = _stats.standardised_support(law, x.size, alpha)
        s = x.std()
        lo, hi = (x.min() - x.mean()) / s, (x.max() - x.mean()) / s
        if lo < z_lo or hi > z_hi:
            raise CheckFailed(
                f"wrong distribution family {where}: standardised (mean 0, std 1) the target "
                f"{law} lies within [{z_lo:.3f}, {z_hi:.3f}], yours reach [{lo:.3f}, {hi:.3f}]"
                " — tails where the target has none."
            )
    d, limit = _stats.standardised_ks_distance(law, x), _stats.standardised_ks_threshold(law, x.size, alpha)
    if _engine.recording():
        _record_ks_p_values(tag, x, law, d)
    if d > limit:
        raise CheckFailed(
            f"wrong distribution family {where}: after standardising (subtract the mean, "
            f"divide by the std) your samples' CDF is {d:.3f} away from the target's "
            f"({law}, standardised); a correct function stays below {limit:.3f} over "
            f"{x.size} samples.{_where_values_stop(x, law)}"
        )


def _where_values_stop(x: np.ndarray, law: Law) -> str:
    """For an untruncated normal target whose samples have no tail: ' Your values stop at …
    — truncated?' (or a uniform's ±1.73), else ''. Standardised with the samples' own mean and
    std, as the KS distance is."""
    if law.kind != "normal":
        return ""
    s = float(x.std())
    z_max = float(np.max(np.abs(x - x.mean()))) / s if s > 0 else 0.0
    if z_max >= _stats.TAIL_Z:
        return ""
    if z_max < 1.8:
        return (f" Your values stop at ±{z_max:.2f} std, as a uniform does (±√3 = ±1.73): a normal "
                f"has no bound — did you draw a uniform?")
    return (f" Your values stop at ±{z_max:.2f} std, where a normal puts "
            f"{_stats.normal_tail_share():.2%} of its values beyond ±{_stats.TAIL_Z} std: is your normal "
            "truncated (or clipped)? This one must not be.")


# --- exact family and independence tests -----------------------------------------------------
# KS at α = 1e-7 cannot tell a truncated from an untruncated normal (standardised CDFs 0.0167
# apart) below ~10⁵ draws per case, and it never looks at *where* a value sits. These tests are
# cheap and exact, so they run on every case of the distribution and arguments aspects.

_calibration_u = np.random.default_rng(20261207)  # the randomisation of discrete p-values (calibration only)


def assert_exact_family_and_independence(values: np.ndarray, law: Law, alpha: float, tag: str, where: str,
                                         *, tails: bool = True) -> None:
    """``values``: the draws of one case, shaped (calls, *shape). The sub-tests, α split evenly:

    - repeats: no value occurs ``_stats.repeat_limit`` times or more (catches clipping: the
      clipped mass sits on the bounds; and values reused many times);
    - normal tails (untruncated normal targets, unless ``tails`` is False): #{|x − μ| > 2.5σ}
      ~ Binomial(n, 0.0124) exactly, two-sided (catches truncated, clipped, uniform and
      heavy-tailed stand-ins). It measures against the *target* μ and σ, so it runs where the
      scale has just passed (arguments); the distribution aspect, which must not fail a scale
      mistake, leaves the family at the defaults to KS on standardised values;
    - reused values: n − #distinct values of |x − μ| below ``_stats.duplicate_limit`` (catches
      half the samples and their negatives, a repeated block, a row broadcast to every unit);
    - order: along every axis of length ≥ 2, in disjoint neighbour pairs (entries 2j and 2j + 1),
      the second is the larger one in Binomial(K, ½) of the K untied pairs — exactly, as two
      i.i.d. entries are exchangeable — on the values and on |x − μ| (catches sorted and partly
      sorted values, by value or by magnitude, whatever the axis).

    Orthogonal matrices are dependent by construction and never come here."""
    x = values.ravel()
    axes = [ax for ax in range(1, values.ndim) if values.shape[ax] >= 2]
    normal_tails = tails and law.kind == "normal"
    share = alpha / (2 + normal_tails + 2 * len(axes))
    _assert_no_repeats(x, law, share, tag, where)
    if normal_tails:
        _assert_normal_tails(x, law, share, tag, where)
    _assert_no_reused_values(x, law, share, tag, where)
    folded = _folded(values, law)
    for ax in axes:
        for v, by in ((values, "value"), (folded, "magnitude")):
            _assert_order_free(v, ax, by, share, tag, where)


def _folded(x: np.ndarray, law: Law) -> np.ndarray:
    """|x − μ| in float64: float32 − μ in float32 would round distinct values together (for
    μ ≠ 0) and add repeats a correct function does not make; in float64 it is exact for float32
    values at the checks' means (0, ±0.5, 1, 2) unless |x| < 2⁻²⁹."""
    return np.abs(x.astype(np.float64, copy=False) - law.mean)


def _assert_no_repeats(x: np.ndarray, law: Law, alpha: float, tag: str, where: str) -> None:
    uniq, counts = np.unique(x, return_counts=True)
    top = int(np.argmax(counts))
    m, limit = int(counts[top]), _stats.repeat_limit(x.size, law.level_p_max, alpha)
    if _engine.recording():
        _engine.record(f"{tag}/repeats-below-limit-holds", float(m < limit))
    if m < limit:
        return
    value = float(uniq[top])
    start = (f"values repeat {where}: {m} of your {x.size} samples equal {value:.6g} exactly, "
             f"where a correct function repeats no value {limit} times (even in float32)")
    heavy = np.flatnonzero(counts >= limit)
    if set(heavy.tolist()) <= {0, len(uniq) - 1}:  # only the smallest and/or largest value: a bound
        end = "smallest" if top == 0 else "largest"
        raise CheckFailed(
            f"{start}. It is your {end} value: clipping (np.clip, clamp) piles the whole tail onto "
            "the bound — a truncated law redraws the values outside (or inverts the CDF) instead, "
            "so no value sits on a bound."
        )
    raise CheckFailed(f"{start}, and {heavy.size} values repeat that often — is one block of values reused "
                      "(repeated, or one row broadcast to every unit)?")


def _assert_normal_tails(x: np.ndarray, law: Law, alpha: float, tag: str, where: str) -> None:
    p0 = _stats.normal_tail_share()
    k = int(np.count_nonzero(_folded(x, law) > _stats.TAIL_Z * law.std))
    lo, hi = _stats.binomial_interval(x.size, alpha=alpha, p=p0)
    if _engine.recording():
        _engine.record(f"{tag}/normal-tail-count",
                       _stats.randomised_binomial_p_value(k, x.size, p0, _calibration_u.uniform()))
    if lo <= k <= hi:
        return
    z_max = float(np.max(_folded(x, law))) / law.std
    head = (f"wrong distribution family {where}: a normal puts {p0:.2%} of its values beyond "
            f"±{_stats.TAIL_Z} std of its mean (a correct function has {lo} to {hi} of {x.size} there), "
            f"yours has {k}")
    if k > hi:
        raise CheckFailed(f"{head}: tails heavier than a normal's.")
    if z_max < 1.8:
        raise CheckFailed(f"{head} and stops at ±{z_max:.2f} std, as a uniform does (±√3): did you draw a uniform?")
    raise CheckFailed(
        f"{head} and stops at ±{z_max:.2f} std: is your normal truncated (or clipped)? This law is an "
        "untruncated normal — check how your function picks the distribution it draws."
    )


def _assert_no_reused_values(x: np.ndarray, law: Law, alpha: float, tag: str, where: str) -> None:
    n = x.size
    repeats = n - np.unique(_folded(x, law)).size
    limit = _stats.duplicate_limit(n, law.level_p_max, alpha)
    if _engine.recording():
        _engine.record(f"{tag}/reused-values-below-limit-holds", float(repeats < limit))
    if repeats < limit:
        return
    same = n - np.unique(x).size
    if same < limit:
        cause = ("they are each other's negatives (about the mean): half the samples and their "
                 "mirror images are not independent draws — draw every value.")
    else:
        cause = "are values reused: a block repeated, or one row broadcast to every unit?"
    raise CheckFailed(
        f"values are not independent {where}: {repeats} of your {n} samples repeat another one "
        f"(up to sign), where a correct function repeats fewer than {limit:.0f} (float32 "
        f"rounding included) — {cause}"
    )


def _assert_order_free(values: np.ndarray, axis: int, by: str, alpha: float, tag: str, where: str) -> None:
    length = values.shape[axis] // 2 * 2
    first = values.take(np.arange(0, length, 2), axis=axis)
    second = values.take(np.arange(1, length, 2), axis=axis)
    up, down = int(np.count_nonzero(second > first)), int(np.count_nonzero(second < first))
    k = up + down
    if k == 0:
        return
    lo, hi = _stats.binomial_interval(k, alpha)
    if _engine.recording():
        _engine.record(f"{tag}/order-axis{axis - 1}-{by}",
                       _stats.randomised_binomial_p_value(up, k, 0.5, _calibration_u.uniform()))
    if lo <= up <= hi:
        return
    second, what = ("the second value", "values") if by == "value" else ("the second |x − mean|", "values' magnitudes")
    raise CheckFailed(
        f"values are not independent of their position {where}: along axis {axis - 1} of the "
        f"array, in {k} pairs of neighbouring entries (2j, 2j+1) {second} is the larger in {up}; "
        f"for independent entries that is a fair coin (a correct function lands in [{lo}, {hi}]) "
        f"— are your {what} sorted, or partly sorted?"
    )


def _judging(ctx: Context, case: Case):
    """Remember which case an assertion judges: when it fails, the diagnosis reports its
    evidence on that same case (and the same std ratio), so it never contradicts the headline."""
    ctx.failed_case, ctx.failed_std_ratio = case, None
    return _Judging(ctx)


class _Judging:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            self.ctx.failed_case = None
        elif isinstance(exc, CheckFailed):
            self.ctx.failed_std_ratio = getattr(exc, "std_ratio", None)
        return False


def _kw(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _law_of(spec: RandomSpec, case: Case, fixed: dict) -> Law:
    return spec.law(case.shape, **{**case.kwargs, **fixed})


def _interface(spec: RandomSpec, fn, ctx: Context) -> str:
    for shape in spec.interface_shapes:
        call_for_array(fn, spec.name, shape, rng=np.random.default_rng(ctx.seed))
        call_for_array(fn, spec.name, shape)  # rng=None must work too
    extra = getattr(fn, "extra_interface", None)  # e.g. a Keras class's get_config
    return f"{len(spec.interface_shapes)} shapes" + (f", {extra()}" if extra else "")


def _scale(spec: RandomSpec, fn, ctx: Context) -> str:
    cases = [Case(s) for s in spec.scale_shapes(ctx)]
    rng = ctx.rng(1)
    n = 0
    for i, case in enumerate(cases):
        x = draw(fn, spec, case, N_SCALE, rng, ctx.fixed)
        law, alpha = _law_of(spec, case, ctx.fixed), ctx.alpha / len(cases)
        where = f"on shape {case.shape}"
        with _judging(ctx, case):
            # The mean and spread tests count on independent draws: values reused (a row
            # broadcast to every unit, a repeated block, antithetic pairs) are reported here,
            # where their noise would otherwise pass or fail the scale at random. α per case:
            # 3/4 to the scale, 1/8 to each of the two reuse tests.
            _assert_no_repeats(x, law, alpha / 8, f"scale/{i}", where)
            _assert_no_reused_values(x, law, alpha / 8, f"scale/{i}", where)
            assert_scale(spec, case, x, law, alpha * 3 / 4, f"scale/{i}")
        n += x.size
    return f"{len(cases)} shapes, {n:.1e} samples"


def _distribution(spec: RandomSpec, fn, ctx: Context) -> str:
    make = spec.distribution_cases or (lambda c: [Case(s) for s in spec.scale_shapes(c)])
    cases = make(ctx)
    rng = ctx.rng(2)
    n = 0
    for i, case in enumerate(cases):
        x = draw(fn, spec, case, N_DISTRIBUTION // len(cases), rng, ctx.fixed)
        where = f"on shape {case.shape}" + (f" with {_kw(case.kwargs)}" if case.kwargs else "")
        law, alpha = _law_of(spec, case, ctx.fixed), ctx.alpha / len(cases)
        # α per case: half to KS (the family at the defaults), half to the exact tests
        with _judging(ctx, case):
            assert_family(x, law, alpha / 2, f"distribution/{i}", where)
            assert_exact_family_and_independence(x.reshape(-1, *case.shape), law, alpha / 2, f"distribution/{i}",
                                                 where, tails=False)
        n += x.size
    return f"{len(cases)} cases, {n:.1e} samples, KS on standardised values, repeats, order"


def _arguments(spec: RandomSpec, fn, ctx: Context) -> str:
    cases = spec.argument_cases(ctx)
    if ctx.fixed:  # a preset fixes some arguments: vary the rest
        cases = free_cases(cases, ctx.fixed)
    rng = ctx.rng(3)
    for i, case in enumerate(cases):
        x = draw(fn, spec, case, N_ARGUMENT, rng, ctx.fixed)
        law, alpha = _law_of(spec, case, ctx.fixed), ctx.alpha / len(cases)
        where = f"on shape {case.shape}" + (f" with {_kw(case.kwargs)}" if case.kwargs else "")
        # α per case: half to the scale (support, mean, spread, edges), half to the family's
        # exact tests and independence — every distribution the arguments ask for is judged
        with _judging(ctx, case):
            assert_scale(spec, case, x, law, alpha / 2, f"arguments/{i}")
            assert_exact_family_and_independence(x.reshape(-1, *case.shape), law, alpha / 2, f"arguments/{i}", where)
    return f"{len(cases)} shape/argument cases: scale, family, independence"


def _errors(spec: RandomSpec, fn, ctx: Context) -> str:
    applicable = [(kw, why) for kw, why in spec.error_cases if not set(kw) & set(ctx.fixed)]
    for kwargs, why in applicable:
        expect_value_error(fn, spec.name, why, spec.interface_shapes[0], rng=np.random.default_rng(0), **kwargs)
    if not applicable:
        return "nothing to reject: every argument is fixed by the preset"
    return f"{len(applicable)} bad arguments"


def _rng(spec: RandomSpec, fn, ctx: Context) -> str:
    return assert_rng_discipline(fn, spec.name, spec.interface_shapes[0], ctx)


def random_aspects(spec: RandomSpec) -> dict[str, Callable]:
    """{aspect: function(fn, ctx)} for ``spec``: interface, scale, distribution, arguments,
    errors (when the spec has error cases) and rng. The aspect functions live at module level
    and receive ``spec`` through a partial, so what they do is looked up when a check runs,
    not when ``initkit.checks`` is imported."""
    aspects = {"interface": partial(_interface, spec), "scale": partial(_scale, spec),
               "distribution": partial(_distribution, spec), "arguments": partial(_arguments, spec)}
    if spec.error_cases:
        aspects["errors"] = partial(_errors, spec)
    aspects["rng"] = partial(_rng, spec)
    return aspects


def assert_rng_discipline(fn, name: str, shape: tuple, ctx: Context) -> str:
    """The rng aspect: seeded alike ⇒ equal, seeded differently ⇒ different, NumPy's global
    state untouched, and rng=None gives fresh values; on the PyTorch track also the path
    torch.nn.init's users take, no generator at all (``_torch_rng.assert_unseeded_path``)."""
    seed_global, global_state = _global_rng(fn)
    seed_global(ctx.seed)
    before, torch_before = global_state()
    first = call_for_array(fn, name, shape, rng=np.random.default_rng(ctx.seed + 1))
    again = call_for_array(fn, name, shape, rng=np.random.default_rng(ctx.seed + 1))
    other = call_for_array(fn, name, shape, rng=np.random.default_rng(ctx.seed + 2))
    after, torch_after = global_state()
    call = describe_for(fn, name, (shape,), {"rng": np.random.default_rng()})
    source, example, when_none = rng_words(fn, name)
    if not np.array_equal(first, again):
        raise CheckFailed(
            f"two calls {call} with generators seeded alike returned different values: "
            f"draw every random number from {source} (e.g. {example}), nothing else."
        )
    if np.array_equal(first, other):
        raise CheckFailed(
            f"calls {call} with generators seeded differently returned the same values: "
            f"your function ignores {source} (a fixed seed inside?)."
        )
    if not _same_state(before, after):
        raise CheckFailed(
            "your function changed NumPy's global random state (np.random.*): draw from the "
            "`rng` argument instead, so results are reproducible."
        )
    if torch_before is not None and not np.array_equal(np.asarray(torch_before), np.asarray(torch_after)):
        raise CheckFailed(
            "your function changed torch's global random state (torch.manual_seed, or drawing "
            "without generator=): draw from `generator` only."
        )
    fresh = [call_for_array(fn, name, shape) for _ in range(2)]
    if np.array_equal(*fresh):
        raise CheckFailed(
            f"two calls {name}({shape!r}) without a seed returned the same values: {when_none}."
        )
    summary = "seeded alike ⇒ equal, seeded differently ⇒ different, global state untouched"
    if getattr(fn, "track", None) == "torch":  # from_torch's adapter and the grader's stand-in
        from ._torch_rng import assert_unseeded_path

        summary += "; " + assert_unseeded_path(fn, name, shape, ctx)
    return summary


def _global_rng(fn):
    """(seed NumPy's global generator, read (NumPy's, torch's) global states) where ``fn``
    runs: in this process, or in the student's kernel when ``fn`` is the grader's stand-in."""
    if hasattr(fn, "global_rng_state"):
        return fn.global_rng_seed, fn.global_rng_state
    return np.random.seed, lambda: (np.random.get_state(), _torch_state())


def _torch_state():
    """torch's global RNG state if torch is in use, else None (never imports torch)."""
    import sys

    torch = sys.modules.get("torch")
    return torch.get_rng_state().numpy() if torch is not None else None


def _same_state(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])
