"""The typed wire format between a student's kernel and the grader (COURSE.md §9).

What crosses the boundary is data, never code: no pickle, no ``eval``, nothing that runs on
decoding. A message is::

    [u32 header length][u64 buffers length][header: UTF-8 JSON][buffers: raw bytes]

and the header is a tree of tagged nodes, ``[tag, *payload]``:

===========  ===============================================  ==========================
tag          payload                                          decodes to
===========  ===============================================  ==========================
none         —                                                ``None``
bool         true / false                                     ``bool``
int          decimal string (any size: PCG64 states are 128-bit)  ``int``
float        ``float.hex`` string (exact, nan and inf too)    ``float``
str          the text (capped)                                ``str``
complex      two ``float.hex`` strings                        ``complex``
fraction     numerator, denominator (decimal strings)         ``fractions.Fraction``
decimal      its string                                       ``decimal.Decimal``
scalar       dtype string, buffer index                       a NumPy scalar (``np.float32`` …)
array        dtype, shape, buffer index, layout               ``np.ndarray`` (numeric dtypes only)
tuple/list   child nodes                                      ``tuple`` / ``list``
dict         ``[[key, node], …]`` with string keys             ``dict``
generator    bit-generator name, state node                   ``np.random.Generator``
exception    base class, type name, message (≤ 1 KB)           a ``RemoteException``
opaque       module, type name, repr (≤ 200 chars)            an ``Opaque`` stand-in
===========  ===============================================  ==========================

Every type an interface aspect tells apart stays apart: ``float`` vs ``np.float32``, ``int``
vs ``np.int64``, ``bool``, a 0-d array, a tuple vs a list, ``Fraction``, ``Decimal``,
``complex``. An array keeps its memory layout's kind — ``"C"``, ``"F"`` (Fortran-ordered) or
``"strided"`` (a non-contiguous view, rebuilt as every other element of a larger buffer) —
so a check that tries F-ordered and non-contiguous inputs tries them in the kernel too. Anything else (a torch tensor, a
``Fraction``) arrives as an ``Opaque`` whose type carries the original module and name, so
"returned a torch.Tensor" still reads right. The reader refuses a message larger than its
cap *before* reading it, and a header deeper or wider than the limits below.
"""

from __future__ import annotations

import builtins
import decimal
import fractions
import json
import socket
import struct

import numpy as np

#: Largest header (JSON) a reader accepts, and the most nodes and nesting depth in it.
MAX_HEADER_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 32
#: Exception messages and strings are cut to these many characters.
MAX_MESSAGE = 1024
MAX_STRING = 1 << 16
MAX_REPR = 200
#: Numeric dtype kinds an array or scalar may have (bool, int, uint, float, complex).
NUMERIC_KINDS = "biufc"

_FRAME = struct.Struct("!IQ")


class WireError(Exception):
    """A message that breaks the format or its limits."""


class RemoteException(Exception):
    """An exception raised in the kernel, rebuilt as data: its type name and message only."""


class Opaque:
    """Stand-in for a value the wire does not carry (its type's module and name, its repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- encoding

def encode(value) -> bytes:
    """One message holding ``value``."""
    buffers: list[bytes] = []
    header = json.dumps(_node(value, buffers, 0), separators=(",", ":")).encode()
    body = b"".join(buffers)
    return _FRAME.pack(len(header), len(body)) + header + body


def _node(value, buffers: list, depth: int):
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if type(value) is int:
        return ["int", str(value)]
    if type(value) is float:
        return ["float", value.hex()]
    if type(value) is str:
        return ["str", value[:MAX_STRING]]
    if type(value) is complex:
        return ["complex", value.real.hex(), value.imag.hex()]
    if type(value) is fractions.Fraction:
        return ["fraction", str(value.numerator), str(value.denominator)]
    if type(value) is decimal.Decimal:
        return ["decimal", str(value)[:4300]]
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        layout = layout_of(value)
        data = np.asfortranarray(value) if layout == "F" else np.ascontiguousarray(value)
        return ["array", value.dtype.str, list(value.shape), _buffer(data.tobytes(order="A"), buffers), layout]
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return ["scalar", value.dtype.str, _buffer(value.tobytes(), buffers)]
    if type(value) in (tuple, list):
        return [type(value).__name__, [_node(v, buffers, depth + 1) for v in value]]
    if type(value) is dict and all(type(k) is str for k in value):
        return ["dict", [[k, _node(v, buffers, depth + 1)] for k, v in value.items()]]
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        return ["generator", state["bit_generator"], _node(state, buffers, depth + 1)]
    if isinstance(value, BaseException):
        return ["exception", _builtin_base(type(value)), type(value).__name__[:MAX_REPR], _safe_str(value)[:MAX_MESSAGE]]
    return ["opaque", _module_of(value), _type_name(type(value)), _safe_repr(value)]


def layout_of(array: np.ndarray) -> str:
    """'C', 'F' (Fortran-ordered, not also C) or 'strided' (neither: a view with gaps)."""
    if array.flags.c_contiguous:
        return "C"
    return "F" if array.flags.f_contiguous else "strided"


def _buffer(data: bytes, buffers: list) -> int:
    buffers.append(data)
    return len(buffers) - 1


def _builtin_base(cls) -> str:
    """The nearest built-in exception class of ``cls`` (``ValueError`` for a subclass of it)."""
    for base in cls.__mro__:
        if getattr(builtins, base.__name__, None) is base:
            return base.__name__
    return "Exception"


def _type_name(cls) -> str:
    return str(getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "object"))[:MAX_REPR]


def _module_of(value) -> str:
    return str(getattr(type(value), "__module__", "") or "")[:MAX_REPR]


def _safe_str(value) -> str:
    try:
        return str(value)
    except Exception:
        return "(its message could not be read)"


def _safe_repr(value) -> str:
    try:
        return repr(value)[:MAX_REPR]
    except Exception:
        return f"<{_type_name(type(value))} object>"


# --------------------------------------------------------------------------- decoding

def decode(message: bytes):
    """The value of one whole message (as made by ``encode``)."""
    if len(message) < _FRAME.size:
        raise WireError("message shorter than its frame")
    header_len, body_len = _FRAME.unpack_from(message)
    if header_len > MAX_HEADER_BYTES or _FRAME.size + header_len + body_len != len(message):
        raise WireError("message length does not match its frame")
    header = message[_FRAME.size:_FRAME.size + header_len]
    return decode_parts(header, memoryview(message)[_FRAME.size + header_len:])


def decode_parts(header: bytes, body) -> object:
    try:
        tree = json.loads(header)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"header is not JSON: {exc}") from None
    return _Decoder(body).value(tree, 0)


class _Decoder:
    def __init__(self, body) -> None:
        self.body, self.offset, self.nodes = body, 0, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.offset + n > len(self.body):
            raise WireError("a node points past the end of the message")
        data = bytes(self.body[self.offset:self.offset + n])
        self.offset += n
        return data

    def value(self, node, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("message has too many nodes or is nested too deeply")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise WireError(f"malformed node {str(node)[:80]}")
        tag, rest = node[0], node[1:]
        try:
            return getattr(self, f"_{tag}")(depth, *rest)
        except (TypeError, ValueError, AttributeError) as exc:
            raise WireError(f"malformed {tag!r} node: {exc}") from None

    # One method per tag; buffers are consumed in order, so the index only cross-checks.
    def _none(self, depth):
        return None

    def _bool(self, depth, b):
        if not isinstance(b, bool):
            raise WireError("bool node without a bool")
        return b

    def _int(self, depth, digits):
        if not isinstance(digits, str) or len(digits) > 4300:
            raise WireError("int node without a decimal string")
        return int(digits)

    def _float(self, depth, text):
        return float.fromhex(text)

    def _str(self, depth, text):
        if not isinstance(text, str):
            raise WireError("str node without a string")
        return text[:MAX_STRING]

    def _dtype(self, text) -> np.dtype:
        dtype = np.dtype(str(text))
        if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
            raise WireError(f"dtype {dtype} is not numeric")
        return dtype

    def _array(self, depth, dtype, shape, index, layout="C"):
        dtype = self._dtype(dtype)
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape) \
                or len(shape) > 32 or layout not in ("C", "F", "strided"):
            raise WireError("array node with a bad shape or layout")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        data = self.take(count * dtype.itemsize)
        if layout == "F":
            return np.frombuffer(data, dtype=dtype).reshape(shape, order="F").copy(order="F")
        array = np.frombuffer(data, dtype=dtype).reshape(shape)
        if layout == "strided" and array.ndim:
            wide = np.zeros((*shape[:-1], 2 * shape[-1]), dtype=dtype)
            view = wide[..., ::2]
            view[...] = array
            return view
        return array.copy()

    def _complex(self, depth, real, imag):
        return complex(float.fromhex(real), float.fromhex(imag))

    def _fraction(self, depth, numerator, denominator):
        if not (isinstance(numerator, str) and isinstance(denominator, str)) or len(numerator + denominator) > 8600:
            raise WireError("fraction node without decimal strings")
        return fractions.Fraction(int(numerator), int(denominator))

    def _decimal(self, depth, text):
        if not isinstance(text, str) or len(text) > 4300:
            raise WireError("decimal node without a string")
        return decimal.Decimal(text)

    def _scalar(self, depth, dtype, index):
        dtype = self._dtype(dtype)
        return np.frombuffer(self.take(dtype.itemsize), dtype=dtype)[0]

    def _tuple(self, depth, items):
        return tuple(self.value(v, depth + 1) for v in items)

    def _list(self, depth, items):
        return [self.value(v, depth + 1) for v in items]

    def _dict(self, depth, items):
        return {str(k): self.value(v, depth + 1) for k, v in items}

    def _generator(self, depth, name, state):
        if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
            raise WireError(f"unknown bit generator {name!r}")
        bit_generator = getattr(np.random, name)()
        bit_generator.state = self.value(state, depth + 1)
        return np.random.Generator(bit_generator)

    def _exception(self, depth, base, name, message):
        base_cls = getattr(builtins, str(base), None)
        if not (isinstance(base_cls, type) and issubclass(base_cls, Exception)):
            base_cls = Exception
        text = str(message)[:MAX_MESSAGE]
        if str(name) == base_cls.__name__:
            try:
                return base_cls(text)
            except TypeError:  # a built-in whose constructor wants more (UnicodeDecodeError)
                pass
        try:
            return type(str(name)[:MAX_REPR], (base_cls, RemoteException), {})(text)
        except TypeError:
            return type(str(name)[:MAX_REPR], (RemoteException,), {})(text)

    def _opaque(self, depth, module, name, text):
        cls = type(str(name)[:MAX_REPR].rsplit(".", 1)[-1], (Opaque,), {"__module__": str(module)[:MAX_REPR]})
        return cls(str(text)[:MAX_REPR])


# --------------------------------------------------------------------------- sockets

def send(sock: socket.socket, value) -> None:
    sock.sendall(encode(value))


def receive(sock: socket.socket, max_bytes: int):
    """Read one message; refuse (before reading it) one larger than ``max_bytes``."""
    frame = _read_exactly(sock, _FRAME.size)
    header_len, body_len = _FRAME.unpack(frame)
    if header_len > MAX_HEADER_BYTES or header_len + body_len > max_bytes:
        raise WireError(f"a reply of {header_len + body_len:,} bytes is over the limit of {max_bytes:,}")
    message = _read_exactly(sock, header_len + body_len)  # one read for both: a syscall less
    return decode_parts(message[:header_len], memoryview(message)[header_len:])


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
