"""The public catalogue of realistic mistakes, and of correct implementations written
differently, for every NumPy-track exercise.

Each entry is a small function written as a student would write it, registered with

- ``target``: the exercise it implements (``"xavier_uniform"``);
- ``fails``: the aspects of ``initkit.checks.check_<target>`` it must fail — empty for a
  correct variant — i.e. the graded cells ``<NN>-<target>-<aspect>`` it loses;
- ``description``: one line in a student's words.

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

    @property
    def correct(self) -> bool:
        return not self.fails

    @property
    def source(self) -> str:
        """Self-contained source: the helpers and constants it uses from its module, then the
        function itself, decorator dropped and renamed to the target."""
        helpers = _dependencies(self.fn, {self.fn.__name__})
        main = re.sub(r"^def \w+\(", f"def {self.target}(", _plain_source(self.fn), count=1)
        return "\n\n".join(helpers + [main])


def _plain_source(fn) -> str:
    src = textwrap.dedent(inspect.getsource(fn))
    return re.sub(r"^@[\s\S]*?\n(?=def )", "", src, count=1).rstrip() + "\n"


def _dependencies(fn, seen: set) -> list:
    """Sources of the module-level functions and constants ``fn`` refers to, deepest first."""
    out = []
    for name in fn.__code__.co_names:
        if name in seen or name not in fn.__globals__:
            continue
        obj = fn.__globals__[name]
        if inspect.isfunction(obj) and obj.__module__ == fn.__module__:
            seen.add(name)
            out += _dependencies(obj, seen) + [_plain_source(obj)]
        elif isinstance(obj, (dict, tuple, int, float, str)) and not name.startswith("__"):
            seen.add(name)
            out.append(f"{name} = {obj!r}\n")
    return out


MISTAKES: dict[str, Entry] = {}
CORRECT: dict[str, Entry] = {}


def mistake(target: str, fails: tuple, description: str):
    """Register a mistaken implementation of ``target`` that must fail exactly ``fails``."""
    if not fails:
        raise ValueError(f"a mistake must fail at least one aspect; received fails={fails!r}")

    def register(fn):
        key = f"{target}/{fn.__name__}"
        MISTAKES[key] = Entry(key, target, fn, tuple(fails), description)
        return fn
    return register


def correct(target: str, description: str):
    """Register a correct implementation of ``target`` written differently from initkit's."""
    def register(fn):
        key = f"{target}/{fn.__name__}"
        CORRECT[key] = Entry(key, target, fn, (), description)
        return fn
    return register


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


def by_target(target: str, entries: dict | None = None) -> list:
    pool = {**MISTAKES, **CORRECT} if entries is None else entries
    return [e for e in pool.values() if e.target == target]


from . import algebra, batchnorm, orthogonal, random_inits  # noqa: E402,F401  (registration)
