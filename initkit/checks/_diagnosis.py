"""Diagnosis: when a check fails, does the student's function behave like a catalogued
mistake? If so, the failure message names it in a student's words, with the numbers.

Matching runs the student's function and every catalogued mistake of the same exercise,
track and preset — restricted to mistakes that fail the aspect that just failed — on the
same probes with the same random streams, and compares *signatures*. The mistakes come as
plain data, ``_catalogue.py`` (each one's source, aspects and explanation, generated from
``initkit/mistakes/``), so the checks import nothing from the catalogue, which runs them.

- random initializers: per probe (every scale shape and every argument case of the check),
  the std ratio s/σ to the target, the mean offset (x̄ − μ)/σ and the kurtosis of the
  standardised values, from 20,000 draws. Two signatures match when, on every probe, the
  std ratios agree within 3 % (their log-ratio's standard error is ≤ 0.005 at n = 2·10⁴:
  √((κ − 1)/(4n))), the mean offsets within 0.05 and the kurtoses within 0.25 (standard
  error ≤ 0.035 for a normal: √(24/n));
- deterministic functions: the outputs on fixed probes, equal to 1e-6 relative (or the
  same exception type, a broadcasting error told apart), the same return-type problem and
  the same inputs changed in place;
- orthogonal: per probe the row (or column) norm over the gain, whether the Gram matrix
  is gain²·I; over 300 draws of three shapes the Haar test's statistics — the fourth moment of
  the first unit row/column (within 0.045), the share of each W[j, j] > 0 and of neighbouring
  diagonal signs agreeing (within 0.12): about 4 standard errors each.

Only mistakes whose signature differs from the target's can be named (a mistake that
looks correct on these probes — a hard-coded seed, a bound 2 % too wide — is not
diagnosable this way, and its check message already says what is wrong). A correct function
fails with probability ≤ 1e-6 and then has the target's signature, so it is never named.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from fractions import Fraction
from typing import Callable

import numpy as np

from . import _contract
from ._engine import Context

N_DIAGNOSIS = 20_000
STD_LOG_TOL, MEAN_TOL, KURTOSIS_TOL, SIGN_TOL, NORM_TOL, FOURTH_TOL = 0.03, 0.05, 0.25, 0.12, 0.02, 0.045


def diagnose(name: str, aspect: str, fn, ctx: Context) -> str:
    """' Diagnosis: …' naming the catalogued mistake ``fn`` behaves like, or ''."""
    from ._catalogue import MISTAKES

    track = getattr(fn, "track", "numpy")
    candidates = [key for key, e in MISTAKES.items()
                  if e["target"] == name and e["track"] == track and aspect in e["fails"]
                  and (e["fixed"] or {}) == ctx.fixed]
    prober = PROBERS.get(name)
    if not candidates or prober is None:
        return ""
    with _quietly():  # the probes are the diagnosis' own calls: their warnings are no verdict
        student = prober.signature(fn, ctx)
    if student is None:
        return ""
    with _quietly():
        target = prober.target_signature(ctx)
    best = None
    for key in candidates:
        with _quietly():  # the catalogue's warnings are not the student's
            theirs = prober.signature(catalogued(key), ctx)
        if theirs is None or prober.matches(theirs, target):
            continue  # undiagnosable: looks correct on the probes
        if prober.matches(student, theirs):
            distance = prober.distance(student, theirs)
            if best is None or distance < best[0]:
                best = (distance, key)
    if best is None:
        return ""
    entry = MISTAKES[best[1]]
    explanation = entry["explanation"]
    if isinstance(prober, RandomProber):
        evidence, case = prober.evidence_and_case(student, target, _headline(ctx))
        evidence += EVIDENCE_DETAILS[entry["evidence"]](case) if entry.get("evidence") else ""
    else:
        evidence = prober.evidence(student, target)
    return f" Diagnosis: {evidence} — {explanation}" + ("" if explanation[-1] in ".?!" else ".")


_CATALOGUED: dict = {}


def catalogued(key: str) -> Callable:
    """The catalogued mistake ``key`` as the check receives it (through its track's adapter),
    built from its source in ``_catalogue`` — as a student pasting it would — once per process."""
    if key not in _CATALOGUED:
        from scipy.special import ndtr, ndtri

        from ._adapters import from_keras, from_torch
        from ._catalogue import MISTAKES

        entry = MISTAKES[key]
        namespace = {"__name__": "initkit_catalogue", "np": np, "math": math, "ndtr": ndtr, "ndtri": ndtri}
        if entry["track"] in ("torch", "keras"):
            namespace[entry["track"]] = __import__(entry["track"])
        exec(compile(entry["source"], f"<catalogue: {key}>", "exec"), namespace)
        fn = namespace[entry["name"]]
        adapter = {"numpy": None, "torch": from_torch, "keras": from_keras}[entry["track"]]
        _CATALOGUED[key] = fn if adapter is None else adapter(fn)
    return _CATALOGUED[key]


def diagnosable_targets() -> tuple:
    """The exercises the diagnosis has a prober for (the catalogue's table lists their mistakes)."""
    PROBERS.get("")
    return tuple(PROBERS)


def _swapped_fans(case) -> str:
    """The fans of the shape the evidence is about, and the swapped pair a std matches."""
    from ._tables import fans

    fan_in, fan_out = fans(case.shape)
    return (f", where fan_in = {fan_in} and fan_out = {fan_out}; your std is what fan_in = {fan_out} "
            f"and fan_out = {fan_in} give")


#: What each catalogue ``evidence`` tag adds to the evidence (``initkit/mistakes/hints.py``).
EVIDENCE_DETAILS = {"fans": _swapped_fans}


def _headline(ctx: Context):
    """(case, std ratio) the failing assertion judged, as far as the aspect said (else None):
    the evidence is reported there, with the headline's own ratio — never another shape."""
    case = getattr(ctx, "failed_case", None)
    return None if case is None else (case, getattr(ctx, "failed_std_ratio", None))


@contextlib.contextmanager
def _quietly():
    """Neither NumPy's floating-point warnings nor any other warning while the diagnosis probes
    run (the student's function, the reference, the catalogue's): only what the check's own
    calls printed or warned reaches the verdict."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --- random initializers ------------------------------------------------------------------

class RandomProber:
    """Signatures of a random initializer: (std ratio, mean offset, kurtosis) per probe."""

    def __init__(self, spec) -> None:
        self.spec = spec

    def probes(self, ctx: Context) -> list:
        from ._random import Case, free_cases

        cases = [Case(s) for s in self.spec.scale_shapes(ctx)] + list(self.spec.argument_cases(ctx))
        return free_cases(cases, ctx.fixed)

    def law(self, case, ctx):
        return self.spec.law(case.shape, **{**case.kwargs, **ctx.fixed})

    def signature(self, fn, ctx: Context):
        rng = ctx.rng(77)
        out = []
        for case in self.probes(ctx):
            law = self.law(case, ctx)
            try:
                x = np.concatenate([np.asarray(fn(case.shape, rng=rng, **case.kwargs), dtype=np.float64).ravel()
                                    for _ in range(max(1, math.ceil(N_DIAGNOSIS / math.prod(case.shape))))])
            except Exception:
                return None
            s = x.std()
            if not (np.all(np.isfinite(x)) and s > 0):
                return None
            z = (x - x.mean()) / s
            out.append((s / law.std, (x.mean() - law.mean) / law.std, float(np.mean(z**4)), case))
        return out

    def target_signature(self, ctx: Context):
        return [(1.0, 0.0, self.law(c, ctx).central_m4 / self.law(c, ctx).var ** 2, c) for c in self.probes(ctx)]

    @staticmethod
    def matches(a, b) -> bool:
        return all(abs(math.log(ra / rb)) <= STD_LOG_TOL and abs(ma - mb) <= MEAN_TOL and abs(ka - kb) <= KURTOSIS_TOL
                   for (ra, ma, ka, _), (rb, mb, kb, _) in zip(a, b))

    @staticmethod
    def distance(a, b) -> float:
        return max(max(abs(math.log(ra / rb)) / STD_LOG_TOL, abs(ma - mb) / MEAN_TOL, abs(ka - kb) / KURTOSIS_TOL)
                   for (ra, ma, ka, _), (rb, mb, kb, _) in zip(a, b))

    @classmethod
    def evidence(cls, student, target, headline=None) -> str:
        return cls.evidence_and_case(student, target, headline)[0]

    @staticmethod
    def evidence_and_case(student, target, headline=None) -> tuple:
        """(the evidence, the probe case it is about)."""
        def where(case):
            return f"shape {case.shape}" + (f" with {', '.join(f'{k}={v!r}' for k, v in case.kwargs.items())}"
                                            if case.kwargs else "")
        if headline is not None:  # the case the check's message is about, and its std ratio
            case, headline_ratio = headline
            same = [(s, t) for s, t in zip(student, target) if s[3] == case]
            if same:
                (r, m, k, _), (_, _, k0, _) = same[0]
                if headline_ratio is not None:
                    return f"your samples' std is {headline_ratio:.3f}× the target on {where(case)}", case
                if abs(math.log(r)) > STD_LOG_TOL:
                    return f"your samples' std is {r:.3f}× the target on {where(case)}", case
                if abs(m) > MEAN_TOL:
                    return f"your samples' mean is off by {m:.2f} target std on {where(case)}", case
                if abs(k - k0) > KURTOSIS_TOL:
                    return f"your standardised samples' kurtosis is {k:.2f} where the target's is {k0:.2f} on {where(case)}", case
                return f"on {where(case)} and every other shape and argument tried your samples behave as this mistake's", case
        r, _, _, case = max(student, key=lambda f: abs(math.log(f[0])))
        if abs(math.log(r)) > STD_LOG_TOL:
            return f"your samples' std is {r:.3f}× the target on {where(case)}", case
        _, m, _, case = max(student, key=lambda f: abs(f[1]))
        if abs(m) > MEAN_TOL:
            return f"your samples' mean is off by {m:.2f} target std on {where(case)}", case
        (_, _, k, case), (_, _, k0, _) = max(zip(student, target), key=lambda p: abs(p[0][2] - p[1][2]))
        return f"your standardised samples' kurtosis is {k:.2f} where the target's is {k0:.2f} on {where(case)}", case


# --- deterministic functions --------------------------------------------------------------

class ValueProber:
    """Signatures of a deterministic function: per fixed probe, its output (or the type of
    exception it raised — a broadcasting ValueError told apart from one the function raises
    on purpose), what is wrong with the output's type (COURSE.md §5 "Return types"), and
    which input arrays it changed in place. Array inputs are fresh copies for every call,
    so an in-place edit cannot spoil the probes."""

    def __init__(self, name: str, probes: list, reference: Callable, type_problem: Callable,
                 arg_names: tuple = (), either_error: bool = False) -> None:
        self.name, self.probes, self.reference, self.type_problem = name, probes, reference, type_problem
        self.arg_names = arg_names
        self.either_error = either_error  # on a str argument, TypeError as right as ValueError

    def _outputs(self, fn):
        out = []
        for args, kwargs in self.probes:
            given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            try:
                result = fn(*given, **kwargs)
                problem = self.type_problem(result, args)
                value = problem if problem else np.asarray(result, dtype=np.float64)
            except Exception as exc:
                value = _exception_tag(exc)
                if self.either_error and value == "TypeError" and any(isinstance(a, str) for a in args):
                    value = "ValueError"  # a non-number argument: Python's TypeError is as right as a ValueError
            changed = tuple((i, "shape" if a.shape != np.shape(b) else "values")
                            for i, (a, b) in enumerate(zip(args, given))
                            if isinstance(a, np.ndarray) and not (a.shape == np.shape(b) and np.array_equal(a, b)))
            out.append((args, kwargs, value, changed))
        return out

    def signature(self, fn, ctx):
        return self._outputs(fn)

    def target_signature(self, ctx):
        return self._outputs(self.reference)

    @staticmethod
    def _same(a, b) -> bool:
        if isinstance(a, str) or isinstance(b, str):
            return isinstance(a, str) and isinstance(b, str) and a == b
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))

    def matches(self, a, b) -> bool:
        return all(self._same(x[2], y[2]) and x[3] == y[3] for x, y in zip(a, b))

    def distance(self, a, b) -> float:
        return 0.0

    def evidence(self, student, target) -> str:
        from ._engine import describe_call

        def call(args, kwargs):
            return describe_call(self.name, tuple(_Short(a) if isinstance(a, np.ndarray) else a for a in args), kwargs)

        for args, kwargs, _, changed in student:
            if changed:
                i, what = changed[0]
                name = self.arg_names[i] if i < len(self.arg_names) else f"argument {i + 1}"
                return f"{call(args, kwargs)} changed the {what} of the caller's {name}"
        differing = [(args, kwargs, got, right) for (args, kwargs, got, _), (_, _, right, _) in zip(student, target)
                     if not self._same(got, right)]
        if not differing:
            return "your results"
        numbers = [d for d in differing if not isinstance(d[2], str) and not isinstance(d[3], str)]
        args, kwargs, got, right = max(numbers or differing, key=lambda d: _relative_gap(d[2], d[3]))
        if isinstance(got, np.ndarray) and got.size > 2 and not isinstance(right, str):
            return f"{call(args, kwargs)} is up to {float(np.max(np.abs(got - right))):.3g} away from the right values"
        if isinstance(got, np.ndarray) and isinstance(right, np.ndarray) and got.size == right.size == 1:
            from ._deterministic import _distinct

            shown, wanted = _distinct(float(got.ravel()[0]), float(right.ravel()[0]))
            return f"{call(args, kwargs)} gave {shown} where {wanted} is right"
        return f"{call(args, kwargs)} gave {_show(got)} where {_show(right)} is right"


def _exception_tag(exc: Exception) -> str:
    """'ValueError', or 'ValueError from broadcasting' when NumPy could not line shapes up."""
    name = type(exc).__name__
    return f"{name} from broadcasting" if "could not be broadcast" in str(exc) else name


def _relative_gap(got, right) -> float:
    if isinstance(got, str) or isinstance(right, str) or got.shape != right.shape:
        return math.inf
    return float(np.max(np.abs(got - right) / np.maximum(np.abs(right), 1e-12)))


class _Short:
    def __init__(self, array: np.ndarray) -> None:
        self.shape = array.shape

    def __repr__(self) -> str:
        return f"<array of shape {self.shape}>"


def _show(value) -> str:
    if isinstance(value, str):
        return value if value.startswith(("a ", "an ")) else f"a {value}"
    flat = value.ravel()
    if flat.size <= 2:
        return ", ".join(f"{v:.4g}" for v in flat) if flat.size == 2 else f"{flat[0]:.4g}"
    return f"an array starting {', '.join(f'{v:.4g}' for v in flat[:3])}"


def _bn_probe(shape, seed):
    r = np.random.default_rng(seed)
    c = shape[1]
    return (r.normal(2.0, 3.0, shape), r.uniform(0.5, 2.0, c), r.normal(0.0, 1.0, c)), {}


# --- orthogonal ---------------------------------------------------------------------------

class OrthogonalProber:
    """Per probe: row (or column) norm / gain and whether the Gram matrix is gain²·I; then, over
    300 draws of each of a wide, a tall and a square shape, the statistics of the Haar test
    (``_orthogonal.distribution``): the fourth moment Σᵢqᵢ⁴ of the first unit row/column, the
    share of each diagonal entry W[j, j] > 0, the share of neighbouring diagonal signs that
    agree and, for the square shape, the share of det W > 0. Standard errors at 300 draws:
    ≤ 0.029 for a share, ≤ 0.011 for the fourth moment (√(v/300), ``fourth_moment_law``);
    tolerances SIGN_TOL = 0.12 and FOURTH_TOL = 0.045, about 4 standard errors."""

    PROBES = [((6, 10), 1.0), ((10, 6), 2.0), ((4, 3, 2, 2), 0.5), ((8, 8), 3.0)]
    HAAR_SHAPES = [(3, 5), (5, 3), (4, 4)]
    DRAWS = 300

    def _shape(self, fn, shape):
        from ._orthogonal import _shape_for

        return _shape_for(fn, shape)

    def signature(self, fn, ctx):
        rng = ctx.rng(78)
        out = []
        try:
            for shape, gain in self.PROBES:
                w = np.asarray(fn(self._shape(fn, shape), rng=rng, gain=gain), dtype=np.float64)
                m = w.reshape(w.shape[0], -1)
                axis = 1 if m.shape[0] <= m.shape[1] else 0
                gram = m @ m.T if axis == 1 else m.T @ m
                out.append((float(np.linalg.norm(m, axis=axis).mean() / gain),
                            float(np.abs(gram / gain**2 - np.eye(len(gram))).max() < 1e-4)))
            haar = []
            for shape in self.HAAR_SHAPES:
                ws = [np.asarray(fn(shape, rng=rng), dtype=np.float64) for _ in range(self.DRAWS)]
                diag = np.array([np.diagonal(w) > 0 for w in ws])
                first = [w[0] if shape[0] < shape[1] else w[:, 0] for w in ws]
                fourth = float(np.mean([np.sum((v / np.linalg.norm(v)) ** 4) for v in first]))
                det = float(np.mean([np.linalg.det(w) > 0 for w in ws])) if shape[0] == shape[1] else 0.5
                haar.append((fourth, tuple(diag.mean(axis=0)), float(np.mean(diag[:, 1:] == diag[:, :-1])), det))
        except Exception:
            return None
        return out + [haar]

    def target_signature(self, ctx):
        from ._orthogonal import fourth_moment_law

        haar = [(fourth_moment_law(max(s))[0], (0.5,) * min(s), 0.5, 0.5) for s in self.HAAR_SHAPES]
        return [(1.0, 1.0)] * len(self.PROBES) + [haar]

    def matches(self, a, b) -> bool:
        *pa, ha = a
        *pb, hb = b
        return all(abs(x[0] - y[0]) <= NORM_TOL and x[1] == y[1] for x, y in zip(pa, pb)) and all(
            abs(fa - fb) <= FOURTH_TOL and abs(ga - gb) <= SIGN_TOL and abs(ea - eb) <= SIGN_TOL
            and all(abs(x - y) <= SIGN_TOL for x, y in zip(da, db))
            for (fa, da, ga, ea), (fb, db, gb, eb) in zip(ha, hb))

    def distance(self, a, b) -> float:
        return sum(abs(fa - fb) + abs(ga - gb) + abs(ea - eb) + sum(abs(x - y) for x, y in zip(da, db))
                   for (fa, da, ga, ea), (fb, db, gb, eb) in zip(a[-1], b[-1]))

    def evidence(self, student, target) -> str:
        """The first statistic off, in the order the Haar test reads them (so the diagnosis
        and the check's headline speak of the same thing)."""
        *probes, haar = student
        for (shape, gain), (norm, orthonormal) in zip(self.PROBES, probes):
            if abs(norm - 1.0) > NORM_TOL:
                return f"with gain={gain} on {shape} your rows/columns have norm {norm * gain:.3g}, not {gain}"
            if not orthonormal:
                return f"on {shape} your W·Wᵀ (or Wᵀ·W) is not gain²·I"
        for shape, (fourth, *_), (expected, *_) in zip(self.HAAR_SHAPES, haar, target[-1]):
            if abs(fourth - expected) > FOURTH_TOL:
                return (f"Σᵢqᵢ⁴ of the first unit row/column of {shape} averaged {fourth:.3f} over {self.DRAWS} "
                        f"draws, not {expected:.3f}")
        for shape, (_, diag, *_) in zip(self.HAAR_SHAPES, haar):
            for j, share in enumerate(diag):
                if abs(share - 0.5) > SIGN_TOL:
                    where = "" if shape == self.HAAR_SHAPES[0] else f" of {shape}"
                    return f"W[{j}, {j}]{where} was positive in {share:.0%} of {self.DRAWS} draws, not about half"
        for shape, (_, _, agree, _) in zip(self.HAAR_SHAPES, haar):
            if abs(agree - 0.5) > SIGN_TOL:
                return (f"neighbouring diagonal signs of {shape} agreed in {agree:.0%} of pairs over "
                        f"{self.DRAWS} draws, not about half")
        for shape, (_, _, _, det) in zip(self.HAAR_SHAPES, haar):
            if abs(det - 0.5) > SIGN_TOL:
                return f"det W of {shape} was positive in {det:.0%} of {self.DRAWS} draws, not about half"
        return "your matrices are orthogonal but not Haar-distributed"


def _pair_problem(out, args):
    return _contract.real_pair_problem(out)


def _depth_array_problem(out, args):
    return _contract.array_problem(out, (int(args[0]),))


def _real_problem(out, args):
    return _contract.real_number_problem(out)


def _fans_problem(out, args):
    return _contract.fans_problem(out)


def _array_problem(out, args):
    return _contract.array_problem(out, args[0].shape)


def _build() -> dict:
    from .. import (batch_norm, calculate_gain, compute_fans, predict_std, preactivation_variance, relu_moments,
                    var_of_product)
    from . import _initializers as specs

    probers = {spec.name: RandomProber(spec) for spec in (
        specs.XAVIER_UNIFORM, specs.XAVIER_NORMAL, specs.KAIMING_UNIFORM, specs.KAIMING_NORMAL,
        specs.TRUNCATED_NORMAL, specs.VARIANCE_SCALING)}
    probers["var_of_product"] = ValueProber("var_of_product", [
        ((0.0, 2.0, 0.0, 3.0), {}), ((1.5, 2.0, -0.5, 3.0), {}), ((2.0, 0.5, 3.0, 1.5), {}),
        ((-1.0, 4.0, 2.5, 0.25), {}), ((1e-3, 2e-4, 3e-3, 1e-5), {})], var_of_product, _real_problem)
    probers["relu_moments"] = ValueProber("relu_moments", [
        ((0.0, 1.0), {}), ((1.0, 2.0), {}), ((-1.5, 0.5), {}), ((2.0, 1.0), {}), ((1.0, 0.0), {}),
        ((0.0, -1.0), {}), ((0.5, -2.0), {}), ((1.0, "2.0"), {})], relu_moments, _pair_problem,
        either_error=True)
    probers["preactivation_variance"] = ValueProber("preactivation_variance", [
        ((256, 2 / 256, 0.0, 0.5), {}), ((100, 0.01, 0.4, 0.34), {}), ((16, 0.25, -2.0, 1.0), {}),
        ((True, 0.25, 1.0, 1.0), {}), ((2.5, 0.25, 1.0, 1.0), {}), ((0, 0.25, 1.0, 1.0), {}),
        ((7, 0.3, 0.7, 0.2), {}), ((16, -0.25, 1.0, 1.0), {}), ((16, 0.25, 1.0, -1.0), {})], preactivation_variance, _real_problem)
    probers["predict_std"] = ValueProber("predict_std", [
        ((20, 256, 1 / 16, "relu"), {}), ((10, 128, 0.2, "linear"), {}), ((20, 256, (5 / 3) / 16, "tanh"), {}),
        ((1, 64, 0.25, "relu"), {}), ((40, 256, 1.0, "linear"), {})] + [
        ((5, 64, 0.125, name), {}) for name in ("sigmoid", "prelu", "leaky_relu", "relu6", "ReLU", " tanh",
                                                  "Linear")], predict_std, _depth_array_problem)
    probers["compute_fans"] = ValueProber("compute_fans", [
        ((shape,), {"layout": layout}) for shape in [(5, 3), (6, 4, 3, 3), (8, 2, 5), (7,), ()]
        for layout in ("torch", "keras")] + [
        (((4, 3),), {"layout": layout}) for layout in ("Torch", "KERAS", "tf", "jax")],
        compute_fans, _fans_problem)
    probers["calculate_gain"] = ValueProber("calculate_gain", [
        ((n,), {}) for n in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu")] + [
        (("leaky_relu", s), {}) for s in (0.2, 1.0, 3, -0.5)] + [
        (("leaky_relu", bad), {}) for bad in (True, "0.1", Fraction(1, 10), [0.1])] + [
        ((name,), {}) for name in ("gelu", "conv4d", "prelu", "ReLU", " tanh", "conv_transpose2d")] + [
        (("relu", "x"), {})],
        calculate_gain, _real_problem)
    probers["batch_norm"] = ValueProber("batch_norm", [
        _bn_probe((16, 5), 0), _bn_probe((4, 3, 5, 5), 1), _bn_probe((8, 2, 3, 3), 2)], batch_norm,
        _array_problem, ("x", "gamma", "beta"))
    probers["orthogonal"] = OrthogonalProber()
    return probers


class _LazyProbers(dict):
    def get(self, key, default=None):
        if not self:
            self.update(_build())
        return super().get(key, default)


PROBERS = _LazyProbers()
