"""What the deterministic checks try and insist on, from COURSE.md §5:

- the *input spaces* a contract names — every valid name and a family of near misses, the
  numeric tower and its look-alikes with the contract's verdict for each, every memory
  layout of an input array — drawn deterministically per seed;
- the *return types* ("Return types"): a real number is a Python ``int`` or ``float`` or a
  NumPy ``np.integer`` / ``np.floating`` scalar, never ``bool``, ``Fraction``, ``Decimal``,
  complex or a 0-d array; fans are a tuple of two integers; ``relu_moments``' pair is a tuple
  of two real numbers; arrays are float32 or float64;
- the *float32 unit roundoff* every values tolerance is built from: a correct computation
  may run in float32 whatever dtype it returns, so tolerances follow float32 arithmetic.
"""

from __future__ import annotations

import decimal
import fractions
import numbers

import numpy as np

#: Unit roundoff of float32: a correctly rounded operation is off by at most U32 relative.
U32 = 2.0**-24


# --- return types -------------------------------------------------------------------------

def type_name(value) -> str:
    """``Fraction`` → 'fractions.Fraction', ``1j`` → 'complex', ``np.float32`` → 'numpy.float32'."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{cls.__qualname__}"


def real_number_problem(value) -> str | None:
    """None when ``value`` is a real number as §5 defines it, else what it is instead
    ('a fractions.Fraction', 'a 0-d numpy array', 'a bool')."""
    if isinstance(value, (bool, np.bool_)):
        return f"a {type_name(value)}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-d numpy array"
    return f"a {type_name(value)}"


def integer_problem(value) -> str | None:
    """None for a Python or NumPy integer (not a bool), else what ``value`` is instead."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return f"a {type_name(value)}"
    return None


def _pair_problem(value, element_problem) -> str | None:
    """None for a tuple of two elements each passing ``element_problem``, else what is wrong."""
    if not isinstance(value, tuple):
        return f"a {type_name(value)}"
    if len(value) != 2:
        return f"a tuple of length {len(value)}"
    for v in value:
        problem = element_problem(v)
        if problem:
            return f"a tuple holding {problem} ({v!r})"
    return None


def fans_problem(value) -> str | None:
    """None for a tuple of two integers, else what ``value`` is instead."""
    return _pair_problem(value, integer_problem)


def real_pair_problem(value) -> str | None:
    """None for a tuple of two real numbers (relu_moments' pair), else what ``value`` is instead."""
    return _pair_problem(value, real_number_problem)


ARRAY_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def array_problem(value, shape) -> str | None:
    """None for a float32 or float64 ndarray of ``shape``, else what ``value`` is instead."""
    if not isinstance(value, np.ndarray):
        return f"a {type_name(value)}"
    if value.dtype not in ARRAY_DTYPES:
        return f"an array of dtype {value.dtype}"
    if value.shape != tuple(shape):
        return f"an array of shape {value.shape}"
    return None


def as_real(value) -> float | None:
    """``value`` as a float when it *means* a real number (a wrong type is the interface's
    business, so values are judged on the number): anything numbers.Real (Fraction too), a
    Decimal or a 0-d real array; None for complex, strings, sequences…"""
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            return float(value)
        return None
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        try:
            return float(value)
        except (OverflowError, ValueError):
            return None
    return None


# --- names ---------------------------------------------------------------------------------

#: Names a student may wrongly accept: neighbours of the valid ones in PyTorch, Keras and
#: everyday speech.
NEIGHBOURS = (
    "", "prelu", "relu6", "rrelu", "celu", "elu", "gelu", "silu", "swish", "mish", "glu",
    "identity", "softplus", "softmax", "softsign", "hardtanh", "tanhshrink", "hardsigmoid",
    "logsigmoid", "leakyrelu", "leaky", "leaky_relu6", "conv", "conv0d", "conv4d", "conv_1d",
    "conv_transpose", "conv_transpose4d", "convtranspose2d", "dense", "none", "None",
    "torch", "keras", "tf", "tensorflow", "pytorch", "jax", "channels_last", "channels_first",
    # module and class spellings: torch.nn's, Keras'
    "ReLU", "LeakyReLU", "Leaky_ReLU", "SELU", "Tanh", "Sigmoid", "Linear", "Conv2d", "Conv1D",
    "ConvTranspose2d", "Torch", "Keras", "PyTorch",
)


def near_misses(valid: tuple, rng: np.random.Generator, n_random: int = 12) -> list:
    """Strings that are none of ``valid`` but look like one, in a fixed order:

    case (``ReLU``, ``RELU``), whitespace (``' relu'``, ``'relu\\n'``), separators (``leaky-relu``,
    ``leakyrelu``), every proper prefix and suffix of 2+ characters (``conv``, ``elu``), a
    letter or digit added, ``NEIGHBOURS``, then ``n_random`` one-letter edits (delete, insert,
    replace, swap) of valid names drawn from ``rng`` — so each seed tries other ones."""
    out = []
    for name in valid:
        out += [name.upper(), name.capitalize(), name.title(), " " + name, name + " ", name + "\n",
                "\t" + name, name.replace("_", "-"), name.replace("_", ""), name.replace("_", " "),
                name + "s", name + "_", name + "2", name + "4d"]
        out += [name[:k] for k in range(2, len(name))] + [name[k:] for k in range(1, len(name) - 1)]
    out += list(NEIGHBOURS)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789_"
    for _ in range(n_random):
        name = str(rng.choice(valid))
        i = int(rng.integers(0, len(name)))
        c = str(rng.choice(list(letters)))
        edit = int(rng.integers(0, 4))
        if edit == 0:
            out.append(name[:i] + name[i + 1:])
        elif edit == 1:
            out.append(name[:i] + c + name[i:])
        elif edit == 2:
            out.append(name[:i] + c + name[i + 1:])
        elif i + 1 < len(name):
            out.append(name[:i] + name[i + 1] + name[i] + name[i + 2:])
    seen, unique = set(valid), []
    for s in out:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


# --- numbers and their look-alikes ---------------------------------------------------------

def real_slopes(rng: np.random.Generator) -> list:
    """Slopes the contract accepts (any real: int or float, not bool): positive, negative,
    zero, tiny and large, Python ints and floats, ``np.float64`` (a float subclass), plus
    two drawn per seed."""
    drawn = [float(rng.uniform(0.05, 5.0)), -float(rng.uniform(0.05, 5.0))]
    return [0, 1, 3, -2, 0.0, 0.2, 1.0, -0.2, -1.0, 1e-8, 1e3, -1e3, 10**6, np.float64(0.3)] + drawn


#: Values that are not a real number in the contract's sense (int or float, not bool):
#: calculate_gain('leaky_relu', v) must raise ValueError for each.
NOT_SLOPES = (
    True, False, np.bool_(True), "0.1", "", "leaky", [0.1], (0.1,), [], {"slope": 0.1}, 1j,
    complex(0.1, 0.0), fractions.Fraction(1, 10), decimal.Decimal("0.1"), np.array(0.1),
    np.array([0.1]),
)

#: NumPy scalars other than np.float64: "int or float" may be read as Python's types
#: (PyTorch raises ValueError) or as kinds of number, so either verdict passes — but a
#: gain returned for one must be the right gain. (np.float16 is left out: arithmetic on it
#: stays in float16 and keeps 3 digits, which no tolerance built on float32 can grant.)
EITHER = (np.float32(0.25), np.int64(2), np.int32(-1))

#: Anything at all: param is ignored off leaky_relu, so none of these may change the gain.
IGNORED_PARAMS = (0.5, 3, -1.0, 0, True, "0.1", "abc", [0.1], 1j, fractions.Fraction(1, 3),
                  decimal.Decimal("2"), np.float32(2.0), np.array([1.0, 2.0]), {"a": 1})


#: Real numbers as §5 names them, one of each kind: the inputs of relu_moments,
#: preactivation_variance and predict_std are passed as each of these in turn.
REAL_KINDS = (float, int, np.float64, np.float32, np.int64)


def as_kind(kind, value: float):
    """``value`` passed as ``kind``; an int kind only for integral values (else a float)."""
    if kind in (int, np.int64):
        return kind(value) if float(value).is_integer() else float(value)
    return kind(value)


#: Not numbers at all: relu_moments' std given as one of these must raise (ValueError, or the
#: TypeError Python raises comparing it with 0) — never return a value.
NOT_NUMBERS = ("1.0", "", None, 1j, complex(0.5, 0.0), [1.0], (1.0,))

#: Numbers outside §5's "real number" (bool, Fraction, Decimal): a contract that only
#: speaks of real numbers leaves them open, so either verdict passes — an exception, or the
#: right value for the number they hold.
EITHER_NUMBERS = (True, fractions.Fraction(3, 2), decimal.Decimal("1.5"))

#: What is not a count: n in preactivation_variance must be a Python or NumPy int ≥ 1 (not
#: a bool — True is no count), anything else raises ValueError.
NOT_COUNTS = (True, False, np.bool_(True), 16.0, 2.5, np.float64(16.0), np.float32(8.0),
              fractions.Fraction(16), decimal.Decimal(16), "16", None, [16], 16 + 0j, 0, -4, np.int64(0),
              np.int32(-1))


# --- array layouts -------------------------------------------------------------------------

#: (dtype, memory layout) of every input array the contract accepts.
LAYOUTS = tuple((np.dtype(d), order) for d in (np.float64, np.float32) for order in ("C", "F", "strided"))


def laid_out(values: np.ndarray, dtype, order: str) -> np.ndarray:
    """A fresh array holding ``values`` as ``dtype`` in the memory layout ``order``: 'C', 'F'
    (Fortran order, i.e. transposed strides), or 'strided' (a non-contiguous view: every
    other element along the last axis of a twice-as-wide array)."""
    a = np.asarray(values).astype(dtype)
    if order == "C":
        return np.ascontiguousarray(a)
    if order == "F":
        return np.asfortranarray(a)
    if order == "strided":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    raise ValueError(f"order must be 'C', 'F' or 'strided'; received {order!r}")


def describe_layout(a: np.ndarray) -> str:
    """'float32, F-ordered' — how an input array was laid out, for messages."""
    if a.flags.c_contiguous:
        order = "C-ordered"
    elif a.flags.f_contiguous:
        order = "F-ordered"
    else:
        order = "a non-contiguous view"
    return f"{a.dtype}, {order}"
