"""The public catalogue of realistic mistakes, and of correct implementations written
differently, for every NumPy-track exercise.

Each entry is a small function written as a student would write it, registered with

- ``target``: the exercise it implements (``"xavier_uniform"``);
- ``fails``: the aspects of ``initkit.checks.check_<target>`` it must fail — empty for a
  correct variant — i.e. the graded cells ``<NN>-<target>-<aspect>`` it loses;
- ``description``: one line in a student's words;
- ``knock_on``: the aspects of *other* exercises it fails when a notebook's later function
  calls this one (03's Xavier calls the student's ``compute_fans``), ``{target: aspects}``.

``entry.source`` is the function's source renamed to the target, ready to paste into a
notebook's solution cell (it uses only ``np`` and ``math``) to build a simulated submission.

>>> from initkit.mistakes import MISTAKES
>>> m = MISTAKES["xavier_uniform/std_as_bound"]
>>> m.fails
('scale', 'arguments')
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Entry:
    key: str
    target: str
    fn: Callable
    fails: tuple
    description: str
    track: str = "numpy"          # "numpy", "torch" (an in-place fn_) or "keras" (a class)
    fixed: dict | None = None     # a Keras preset's configuration, passed as check(fixed=...)
    hint: str = ""                # diagnosis in a student's words, when the numbers match
    knock_on: dict | None = None  # {later target: aspects it fails through a call to this one}

    @property
    def correct(self) -> bool:
        return not self.fails

    @property
    def explanation(self) -> str:
        """What the diagnosis tells the student: the hint, else the description."""
        from .hints import HINTS

        return self.hint or HINTS.get(self.key, self.description)

    @property
    def evidence(self) -> str:
        """Numbers the diagnosis adds for this mistake (``hints.EVIDENCE``), or ''."""
        from .hints import EVIDENCE

        return EVIDENCE.get(self.key, "")

    @property
    def whole_model(self) -> bool:
        """A notebook-08 function of a model (graded as written, no adapter)."""
        return self.target.startswith("init_weights_")

    @property
    def graded(self) -> Callable:
        """The NumPy-contract callable the check receives (through the track's adapter)."""
        if self.track == "numpy" or self.whole_model:
            return self.fn
        from initkit.checks import from_keras, from_torch

        return (from_torch if self.track == "torch" else from_keras)(self.fn)

    def run_check(self, **kwargs) -> None:
        """``check_<target>(graded, fixed=self.fixed, **kwargs)``."""
        from initkit import checks

        getattr(checks, f"check_{self.target}")(self.graded, fixed=self.fixed, **kwargs)

    @property
    def source(self) -> str:
        """Self-contained source: the helpers and constants it uses from its module, then the
        function itself, decorator dropped and renamed to the target."""
        helpers = _dependencies(self.fn, {self.fn.__name__})
        name = self.track_name
        main = re.sub(r"^(def|class) \w+\b", rf"\1 {name}", _plain_source(self.fn), count=1)
        return "\n\n".join(helpers + [main])

    @property
    def track_name(self) -> str:
        """What the exercise calls it: ``xavier_uniform``, ``xavier_uniform_``, ``HeNormal``,
        ``init_weights_torch``."""
        if self.whole_model:
            return self.target
        if self.track == "torch":
            return "trunc_normal_" if self.target == "truncated_normal" else f"{self.target}_"
        if self.track == "keras":
            return self.fn.__name__.split("__")[0]
        return self.target


def _plain_source(fn) -> str:
    src = textwrap.dedent(inspect.getsource(fn))
    return re.sub(r"^@[\s\S]*?\n(?=def |class )", "", src, count=1).rstrip() + "\n"


def _dependencies(fn, seen: set) -> list:
    """Sources of the module-level functions, classes and constants ``fn`` (a function or a
    class) refers to, deepest first."""
    out = []
    for name in _names_used(fn):
        if name in seen or name not in _module_globals(fn):
            continue
        obj = _module_globals(fn)[name]
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == fn.__module__:
            seen.add(name)
            out += _dependencies(obj, seen) + [_plain_source(obj)]
        elif isinstance(obj, (dict, tuple, int, float, str)) and not name.startswith("__"):
            seen.add(name)
            out.append(f"{name} = {obj!r}\n")
    return out


def _module_globals(obj) -> dict:
    import sys

    return vars(sys.modules[obj.__module__])


def _names_used(obj) -> list:
    """Global names a function's code uses; for a class, its methods' and its bases' names."""
    if inspect.isfunction(obj):
        names = list(obj.__code__.co_names)
        for const in obj.__code__.co_consts:  # nested functions (e.g. inside a factory)
            if inspect.iscode(const):
                names += const.co_names
        return names
    source = _plain_source(obj)
    header = source.split(":", 1)[0]
    names = re.findall(r"\b([A-Za-z_]\w*)\b", header.split("(", 1)[1]) if "(" in header else []
    for member in vars(obj).values():
        if inspect.isfunction(member):
            names += _names_used(member)
    return names


MISTAKES: dict[str, Entry] = {}
CORRECT: dict[str, Entry] = {}


TRACKS = ("numpy", "torch", "keras")


def _key(track: str, target: str, fn) -> str:
    return f"{target}/{fn.__name__}" if track == "numpy" else f"{track}:{target}/{fn.__name__}"


def mistake(target: str, fails: tuple, description: str, *, track: str = "numpy",
            fixed: dict | None = None, hint: str = "", knock_on: dict | None = None):
    """Register a mistaken implementation of ``target`` that must fail exactly ``fails``."""
    if not fails:
        raise ValueError(f"a mistake must fail at least one aspect; received fails={fails!r}")
    if track not in TRACKS:
        raise ValueError(f"track must be one of {TRACKS}; received {track!r}")

    def register(fn):
        key = _key(track, target, fn)
        MISTAKES[key] = Entry(key, target, fn, tuple(fails), description, track, fixed, hint, knock_on)
        return fn
    return register


def correct(target: str, description: str, *, track: str = "numpy", fixed: dict | None = None):
    """Register a correct implementation of ``target`` written differently from initkit's."""
    if track not in TRACKS:
        raise ValueError(f"track must be one of {TRACKS}; received {track!r}")

    def register(fn):
        key = _key(track, target, fn)
        CORRECT[key] = Entry(key, target, fn, (), description, track, fixed)
        return fn
    return register


def load_track(track: str) -> None:
    """Register a framework track's entries (imports torch or Keras; numpy is always loaded)."""
    if track == "torch":
        from . import init_weights_torch, torch_track  # noqa: F401
    elif track == "keras":
        from . import init_weights_keras, keras_track  # noqa: F401
    elif track != "numpy":
        raise ValueError(f"track must be one of {TRACKS}; received {track!r}")


def reference(target: str) -> Callable:
    """initkit's own implementation of ``target`` wrapped as if a student had written it
    (the checks reject initkit's functions themselves) — for tests, bench and calibration."""
    import initkit

    implementation = getattr(initkit, target)

    def student_copy(*args, **kwargs):
        return implementation(*args, **kwargs)

    student_copy.__name__ = student_copy.__qualname__ = target
    return student_copy


def reference_track(track: str, name: str):
    """The PyTorch- or Keras-track reference wrapped as a student's own function or class
    (delegating, so the checks' integrity rule does not reject it)."""
    if track == "torch":
        from initkit import torch_track

        implementation = getattr(torch_track, name)

        def student_copy(tensor, *args, **kwargs):
            return implementation(tensor, *args, **kwargs)

        student_copy.__name__ = student_copy.__qualname__ = name
        return student_copy
    import keras

    from initkit import keras_track

    implementation_class = getattr(keras_track, name)

    def __init__(self, *args, **kwargs):
        self._impl = implementation_class(*args, **kwargs)

    return type(name, (keras.initializers.Initializer,), {
        "__init__": __init__,
        "__call__": lambda self, shape, dtype=None: self._impl(shape, dtype=dtype),
        "get_config": lambda self: self._impl.get_config(),
    })


def reference_model(target: str) -> Callable:
    """initkit's notebook-08 function (``init_weights_torch`` / ``init_weights_keras``) wrapped
    as a student's own (the checks refuse initkit's functions themselves)."""
    if target == "init_weights_torch":
        from initkit.torch_track import init_weights_torch as implementation

        def init_weights_torch(model):
            implementation(model)
        return init_weights_torch
    if target == "init_weights_keras":
        from initkit.keras_track import init_weights_keras as implementation

        def init_weights_keras(model, seed):
            implementation(model, seed)
        return init_weights_keras
    raise ValueError(f"target must be 'init_weights_torch' or 'init_weights_keras'; received {target!r}")


def by_target(target: str, entries: dict | None = None) -> list:
    pool = {**MISTAKES, **CORRECT} if entries is None else entries
    return [e for e in pool.values() if e.target == target]


from . import algebra, batchnorm, orthogonal, propagation, random_inits  # noqa: E402,F401  (registration)
