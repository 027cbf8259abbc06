"""The wire format between the student's kernel and the grader (initgrader.wire): every type
an interface aspect tells apart survives the trip; nothing on it runs code; limits hold."""

import decimal
import fractions
import json
import pickle
import socket
import struct

import numpy as np
import pytest

from initgrader import proxy, wire


def trip(value):
    return wire.decode(wire.encode(value))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**130, 1.5, float("inf"), -0.0, "text", "",
    np.float32(1.25), np.float64(2.5), np.int64(3), np.int32(-4), np.bool_(True),
    (1, 2.0), [1, (2,)], {"a": [1.0]}, 2 + 3j, fractions.Fraction(1, 10), decimal.Decimal("0.1"),
])
def test_scalars_and_containers_keep_their_exact_type_and_value(value):
    back = trip(value)
    assert type(back) is type(value)
    assert repr(back) == repr(value)


def test_nan_survives_and_stays_a_float():
    back = trip(float("nan"))
    assert type(back) is float and back != back


@pytest.mark.parametrize("make, layout", [
    (lambda x: x, "C"), (np.asfortranarray, "F"), (lambda x: x[:, ::2], "strided"),
    (lambda x: x.astype(np.float32), "C"), (lambda x: np.array(3.0), "C"), (lambda x: x[:0], "C"),
])
def test_arrays_keep_dtype_shape_values_and_layout_kind(make, layout):
    value = make(np.arange(24.0).reshape(4, 6))
    back = trip(value)
    assert back.dtype == value.dtype and back.shape == value.shape
    assert np.array_equal(back, value)
    assert wire.layout_of(back) == layout


def test_a_generator_arrives_in_the_same_state():
    rng = np.random.default_rng(5)
    rng.normal(size=3)
    back = trip(rng)
    assert np.array_equal(back.normal(size=4), rng.normal(size=4))


def test_an_exception_keeps_its_builtin_base_and_a_capped_message():
    class Custom(ValueError):
        pass

    back = trip(Custom("x" * 5000))
    assert isinstance(back, ValueError) and type(back).__name__ == "Custom"
    assert len(str(back)) == wire.MAX_MESSAGE


def test_an_unknown_object_arrives_as_an_inert_stand_in_named_like_it():
    class Evil:
        def __reduce__(self):
            raise AssertionError("pickled")

        def __repr__(self):
            return "<evil>"

    back = trip(Evil())
    assert isinstance(back, wire.Opaque)
    assert type(back).__name__ == "Evil" and type(back).__module__ == __name__
    assert repr(back) == "<evil>"


def test_object_arrays_and_pickles_are_refused():
    with pytest.raises(wire.WireError):
        header = json.dumps(["array", "|O", [1], 0, "C"]).encode()
        wire.decode(struct.pack("!IQ", len(header), 8) + header + b"\0" * 8)
    with pytest.raises(wire.WireError):
        wire.decode(pickle.dumps([1, 2]))


@pytest.mark.parametrize("header", [
    b"not json", json.dumps(["array", "<f8", [10**6], 0, "C"]).encode(),  # points past the end
    json.dumps(["generator", "Evil", ["none"]]).encode(), json.dumps(["nope"]).encode(),
    json.dumps(["list", [["list", []]] * 3]).encode().replace(b"[]", b"[" * 40 + b"]" * 40),
])
def test_malformed_messages_raise_wire_errors(header):
    with pytest.raises(wire.WireError):
        wire.decode(struct.pack("!IQ", len(header), 0) + header)


def test_a_reply_over_the_limit_is_refused_before_it_is_read():
    a, b = socket.socketpair()
    try:
        a.sendall(struct.pack("!IQ", 10, 1 << 40))  # announces a terabyte, sends nothing more
        with pytest.raises(wire.WireError, match="over the limit"):
            wire.receive(b, 1 << 20)
    finally:
        a.close(), b.close()


def test_free_names_are_the_names_a_cell_reads_but_never_binds():
    source = ("from initkit.checks import check_x, from_torch\nimport numpy as np\nr = f(1)\n"
              "for n in range(3):\n    g(n)\ncheck_x(from_torch(h_), aspect='a')\nprint([k(i) for i in r])\n")
    assert proxy.free_names(source) == ["f", "g", "h_", "k"]
