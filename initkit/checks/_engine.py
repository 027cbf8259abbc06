"""The machinery every check shares: calling the student's function safely, turning what
goes wrong into one clear ``AssertionError``, and running the aspects of a check.

A check is a dict ``{aspect: function(fn, ctx)}``; each aspect function raises
``CheckFailed`` with a message for the student, or returns a short summary of what it tried
(``"3 shapes, 6.0e5 samples"``) that becomes the ✓ line.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

#: False-alarm probability of one aspect. A check has at most 8 aspects, so a correct
#: implementation fails a full check (aspect=None) with probability ≤ 8e-8 < 1e-6.
ALPHA_PER_ASPECT = 1e-7


# Calibration hook: while `recording_null_p_values()` is active, every statistical sub-test
# also reports the p-value of its statistic (uniform on [0, 1] for a correct implementation)
# so tools/calibrate.py can test that uniformity. Off by default: students pay nothing.
_p_value_sink: list | None = None


@contextlib.contextmanager
def recording_null_p_values():
    """Collect ``(label, p)`` from every sub-test run inside; yields the list."""
    global _p_value_sink
    previous, _p_value_sink = _p_value_sink, []
    try:
        yield _p_value_sink
    finally:
        _p_value_sink = previous


def recording() -> bool:
    return _p_value_sink is not None


def record(label: str, p: float) -> None:
    """Report a sub-test's p-value (or, for a deterministic inequality, 1.0/0.0 = holds/not)."""
    if _p_value_sink is not None:
        _p_value_sink.append((label, float(p)))


class CheckFailed(Exception):
    """Raised inside an aspect; the runner turns it into the student's AssertionError."""


class NotImplementedYet(CheckFailed):
    pass


@dataclass
class Context:
    """What an aspect needs: its name, a seeded generator for the check's own randomness,
    the ``seed`` (which also picks shapes/arguments), ``fixed`` arguments and its α."""

    name: str
    seed: int
    fixed: dict
    alpha: float = ALPHA_PER_ASPECT

    def rng(self, *stream: int) -> np.random.Generator:
        """A generator seeded from (seed, *stream): independent streams per use."""
        return np.random.default_rng([self.seed, *stream])


#: How each track names its source of randomness, and an example of drawing from it.
RNG_WORDS = {
    "numpy": ("`rng`", "rng.uniform(-bound, bound, size=shape)",
              "with rng=None use a fresh np.random.default_rng()"),
    "torch": ("`generator`", "tensor.uniform_(-bound, bound, generator=generator)",
              "with generator=None draw from torch's default generator"),
    "keras": ("the `seed` given to __init__", "keras.random.uniform(shape, -limit, limit, seed=self.seed)",
              "with seed=None every instance must get a fresh seed, as keras.initializers do"),
}
NORMAL_EXAMPLES = {
    "numpy": "rng.normal(0.0, std, size=shape)",
    "torch": "tensor.normal_(0.0, std, generator=generator)",
    "keras": "keras.random.normal(shape, 0.0, std, seed=self.seed)",
}


def rng_words(fn, name: str = "") -> tuple[str, str, str]:
    """(source of randomness, an example draw — a normal one for normal laws —, rng=None rule)."""
    track = getattr(fn, "track", "numpy")
    source, example, when_none = RNG_WORDS[track]
    if "normal" in name or name == "orthogonal":
        example = NORMAL_EXAMPLES[track]
    return source, example, when_none


def describe_for(fn, name: str, args: tuple, kwargs: dict) -> str:
    """A call as the student wrote it: adapters describe it in their track's terms."""
    describe = getattr(fn, "describe", None)
    return describe(args, kwargs) if describe else describe_call(name, args, kwargs)


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    parts = [_short(a) if isinstance(a, np.ndarray) else repr(a) for a in args] + \
        [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _short(value) -> str:
    if isinstance(value, np.random.Generator):
        return "rng"
    if isinstance(value, np.ndarray) and value.size > 3:  # an input array: its shape, not its numbers
        return f"<array of shape {value.shape}>"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def call_student(fn: Callable, name: str, *args, **kwargs):
    """Call the student's function; any exception becomes a one-line CheckFailed."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotImplementedYet(_not_implemented_message(name, fn, exc)) from None
    except CheckFailed:  # an adapter's verdict on what the function returned
        raise
    except Exception as exc:  # the student's own error, reported in one line
        raise CheckFailed(
            f"{describe_for(fn, name, args, kwargs)} raised {type(exc).__name__}: {_first_line(exc)} "
            f"— in your function.{hint_for_exception(exc)}"
        ) from None


def _not_implemented_message(name: str, fn: Callable, exc: NotImplementedError) -> str:
    """Blank exercise, or a finished one calling a blank helper (03's Xavier calling the
    student's own ``compute_fans``): name the function that still raises."""
    raiser = getattr(exc, "raiser", None)  # set by the grader's proxy: the kernel's traceback stays there
    if not raiser:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        raiser = tb.tb_frame.f_code.co_name
    own_names = {name, getattr(fn, "__name__", name), "__init__", "__call__", "<module>", "<lambda>"}
    if raiser not in own_names:
        return (f"{name} calls {raiser}, which is not implemented yet: finish {raiser} first "
                f"(its own checks come first in the notebook).")
    return f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "(no message)"


#: Exceptions students meet often, and what to do about them.
_EXCEPTION_HINTS = (
    ("leaf Variable that requires grad", " Fill the tensor inside `with torch.no_grad():`, as "
     "torch.nn.init does — a layer's weight is an nn.Parameter that requires grad."),
    ("unexpected keyword argument 'generator'", " Your function must accept `generator=None` and "
     "pass it on (tensor.uniform_(-a, a, generator=generator))."),
    ("unexpected keyword argument 'rng'", " Your function must accept `rng=None`."),
    ("unexpected keyword argument 'seed'", " Your __init__ must accept `seed=None` and keep it "
     "for keras.random (seed=self.seed)."),
)


def hint_for_exception(exc: BaseException) -> str:
    text = str(exc)
    return next((hint for pattern, hint in _EXCEPTION_HINTS if pattern in text), "")


def call_for_array(fn: Callable, name: str, shape: tuple, *args, **kwargs) -> np.ndarray:
    """Call a random initializer and insist on the contract: a finite float ndarray of ``shape``."""
    out = call_student(fn, name, shape, *args, **kwargs)
    problem = contract_problem(out, shape)
    if problem:
        raise CheckFailed(f"{describe_for(fn, name, (shape, *args), kwargs)} returned {problem}")
    return out


def contract_problem(out, shape: tuple) -> str | None:
    """What breaks the contract of a random initializer's result (the end of a sentence that
    starts "… returned"), or None for a finite float ndarray of ``shape``."""
    if not isinstance(out, np.ndarray):
        return (f"a {type(out).__module__}.{type(out).__name__}; "
                "the contract asks for a numpy.ndarray (np.asarray(...) converts).")
    if not np.issubdtype(out.dtype, np.floating):
        return f"an array of dtype {out.dtype}; expected a float dtype."
    if out.shape != tuple(shape):
        return f"shape {out.shape}; expected {tuple(shape)}."
    if not np.all(np.isfinite(out)):
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        return f"{bad} non-finite values (nan or inf)."
    return None


def calls_for_array(fn: Callable, name: str, shape: tuple, count: int, **kwargs):
    """``count`` calls ``call_for_array(fn, name, shape, **kwargs)`` in a row, made and checked
    one at a time as they are iterated: the same calls, results and errors, in the same order,
    as a loop of ``call_for_array``.

    A function that lives in another process — the isolated grader's stand-in for the
    student's function (``initgrader.proxy.RemoteFunction``) — may offer ``in_a_row(count,
    shape, **kwargs)`` on its class: a callable that makes the calls there a batch at a time
    and returns one call's result (or raises its error) per call, saving a round trip per call.
    """
    in_a_row = getattr(type(fn), "in_a_row", None) if count > 1 else None
    source = fn if in_a_row is None else in_a_row(fn, count, shape, **kwargs)
    for _ in range(count):
        yield call_for_array(source, name, shape, **kwargs)


def expect_value_error(fn: Callable, name: str, why: str, *args, **kwargs) -> None:
    """The call must raise ValueError (the contract's error); anything else fails."""
    call = describe_for(fn, name, args, kwargs)
    try:
        fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotImplementedYet(_not_implemented_message(name, fn, exc)) from None
    except ValueError:
        return
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{call} raised {type(exc).__name__}: {exc}; expected ValueError ({why})."
        ) from None
    raise CheckFailed(f"{call} returned normally; expected ValueError ({why}).")


def fmt(x: float) -> str:
    return f"{x:.4g}"


def ratio(observed: float, expected: float) -> str:
    if expected == 0 or not math.isfinite(observed):
        return ""
    return f" ({observed / expected:.3f}× the target)"


def run_check(name: str, aspects: dict[str, Callable], fn, aspect, seed, fixed,
              fixable: tuple = (), layouts: tuple = ("torch",)) -> str | None:
    """Run one aspect (or all, in order), print a ✓ line per aspect passed and return the
    failure message, or None; the check raises it (so the student's traceback ends in one
    short frame of ours).

    Student code runs with its output captured (nothing reaches the cell) and under a
    watchdog (``_guard.CHECK_BUDGET_S``); ``fixed`` arguments are never passed to ``fn`` —
    they are fixed by the function itself (a preset) and only set the target law.
    """
    from . import _guard

    if aspect is None:
        chosen = list(aspects)
    elif aspect in aspects:
        chosen = [aspect]
    else:
        raise ValueError(
            f"aspect must be one of {', '.join(map(repr, aspects))} or None; received {aspect!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; received {seed!r}")
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(fixable))
    if unknown:
        allowed = ", ".join(map(repr, fixable)) or "none"
        raise ValueError(f"fixed may hold the arguments {allowed} of {name}; received {unknown}")
    if not callable(fn):
        raise AssertionError(f"{name}: expected your function, received {type(fn).__name__} {fn!r}.")
    layout = getattr(fn, "layout", None)
    if layout is not None and layout not in layouts:
        raise ValueError(
            f"check_{name} grades {' or '.join(layouts)}-layout functions; received a {layout}-layout "
            f"one ({getattr(fn, '__name__', fn)}) — grade Keras initializers with "
            "check_variance_scaling (presets with fixed=...) or check_orthogonal"
        )
    library = library_origin(getattr(fn, "student_function", fn))
    if library:
        raise AssertionError(
            f"{name}: you passed {library} itself — the exercise is to write it yourself "
            "(without calling torch.nn.init, keras.initializers or initkit)."
        )
    ctx = Context(name, int(seed), fixed)
    label = _label(name, fn)
    passed, failure = [], None
    with _guard.captured_output() as noise:
        try:
            with _guard.Watchdog() as watchdog:
                try:
                    for asp in chosen:
                        passed.append((asp, aspects[asp](fn, ctx)))
                except NotImplementedYet as exc:
                    failure = f"{label} — {chosen[len(passed)]}: {exc}"
                except CheckFailed as exc:
                    failure = f"{label} — {chosen[len(passed)]}: {exc}"
                    failure += _diagnosis_or_nothing(name, chosen[len(passed)], fn, ctx)
        except KeyboardInterrupt:
            if not watchdog.fired:
                raise
            if failure is None:  # (a timeout while diagnosing keeps the verdict already reached)
                failure = f"{label} — {chosen[len(passed)]}: {timeout_message(watchdog.seconds)}"
    for asp, summary in passed:
        print(f"✓ {label}: {asp}" + (f" ({summary})" if summary else ""))
    return failure + noise.summary() if failure else None


def timeout_message(seconds: float) -> str:
    """What a student reads when their function ran out of the check's time."""
    return (f"your function took over {seconds:.0f} s, so the check stopped it — vectorise: avoid "
            "Python loops over elements (draw whole arrays at once).")


def _label(name: str, fn) -> str:
    """How verdicts name the function: the check's own name for the NumPy track, the student's
    name for a framework track (``kaiming_uniform_``; ``HeUniform (variance_scaling)``)."""
    track, student = getattr(fn, "track", "numpy"), getattr(fn, "__name__", name)
    if track == "torch":
        return student
    if track == "keras":
        return f"{student} ({name})"
    return name


def _diagnosis_or_nothing(name: str, aspect: str, fn, ctx: Context) -> str:
    """The diagnosis, or '' — it is a courtesy and must never turn a verdict into a crash."""
    from ._diagnosis import diagnose

    try:
        return diagnose(name, aspect, fn, ctx)
    except Exception:
        return ""


_LIBRARY_ROOTS = ("torch", "keras", "tensorflow", "tf_keras", "jax")


def library_origin(obj) -> str:
    """'torch.nn.init.xavier_uniform_' when ``obj`` is a framework or public initkit
    function or class (or a partial of one, or a class deriving from a framework
    initializer other than the ``Initializer`` base); '' for the student's own code."""
    import functools
    import inspect

    fact = getattr(obj, "library_origin_fact", None)  # a grader's stand-in: the kernel looked
    if isinstance(fact, str):
        return fact
    if isinstance(obj, functools.partial):
        return library_origin(obj.func)
    candidates = inspect.getmro(obj) if inspect.isclass(obj) else (obj,)
    for c in candidates:
        module = getattr(c, "__module__", None) or ""
        qualname = f"{module}.{getattr(c, '__qualname__', type(c).__name__)}"
        if c is object or getattr(c, "__name__", "") == "Initializer":
            continue
        if module.split(".")[0] in _LIBRARY_ROOTS:
            return qualname
        if module.split(".")[0] == "initkit" and _is_public_initkit(c):
            return qualname
    return ""


def _is_public_initkit(obj) -> bool:
    import sys

    # Only modules already imported: an object from initkit.keras_track implies it is loaded,
    # and importing it here would import Keras for nothing.
    for name in ("initkit", "initkit.torch_track", "initkit.keras_track"):
        module = sys.modules.get(name)
        for public in getattr(module, "__all__", ()):
            if getattr(module, public, None) is obj:
                return True
    return False
