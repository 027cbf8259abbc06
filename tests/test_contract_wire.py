"""The deterministic catalogue graded the way the isolated grader grades it: the check runs
here, the student's function behind ``initgrader``'s proxy and kernel server, every request
and reply through the wire format (``initgrader.wire``) — in one process, without a
sandbox, so the data path is the real one and nothing else.

Every entry must keep its in-process verdict: the wire carries in-place edits of the
arguments back to the grader's copies, keeps an array's layout (C, F or a strided view) and
carries ``Fraction``, ``Decimal`` and ``complex`` as data (they were lost before: six
catalogue entries changed verdict through the grader).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import initkit
from initkit import checks
from initkit.mistakes import CORRECT, MISTAKES
from verdicts import failing_aspects

wire = pytest.importorskip("initgrader.wire")
if Path(wire.__file__).resolve().parents[1] != Path(initkit.__file__).resolve().parents[1]:
    # an initgrader from another checkout (an editable install elsewhere) grades another initkit
    pytest.skip("initgrader is not part of this checkout", allow_module_level=True)
proxy = pytest.importorskip("initgrader.proxy")
kernel_serve = pytest.importorskip("initgrader.kernel_serve")

DETERMINISTIC = ("var_of_product", "relu_moments", "preactivation_variance", "predict_std", "compute_fans",
                 "calculate_gain", "batch_norm")

class LoopbackChannel(proxy.Channel):
    """A channel whose kernel is an in-process ``kernel_serve._Server``: each request and
    reply is encoded and decoded as on the socket."""

    def __init__(self) -> None:
        super().__init__(sock=None)
        self.server = kernel_serve._Server(kernel_serve.CALL_BUDGET_S, capture=None, alarm=None)

    def request(self, op: str, **fields) -> dict:
        self.calls += 1
        request = wire.decode(wire.encode({"op": op, **fields}))
        # the serve loop's capture and watchdog, here around one request (pytest keeps the fds)
        with kernel_serve._LoopCapture() as capture, kernel_serve._Alarm() as alarm:
            self.server.capture, self.server.alarm = capture, alarm
            reply = self.server.answer(request)
        return wire.decode(wire.encode(reply))


def remote(fn, name: str):
    """``fn`` as the grader sees a student's function: a RemoteFunction on a loopback kernel."""
    main = sys.modules["__main__"].__dict__
    main[name] = fn
    try:
        channel = LoopbackChannel()
        return proxy.RemoteFunction(channel, name, proxy._resolve(channel, name))
    finally:
        del main[name]


ENTRIES = sorted(k for k, e in {**MISTAKES, **CORRECT}.items() if e.target in DETERMINISTIC and e.track == "numpy")


@pytest.mark.parametrize("key", ENTRIES)
def test_deterministic_verdicts_hold_through_the_grader(key):
    entry = {**MISTAKES, **CORRECT}[key]
    check = getattr(checks, f"check_{entry.target}")
    for seed in (0, 1):
        failed = failing_aspects(check, remote(entry.fn, entry.target), seed)
        assert set(failed) == set(entry.fails), (seed, sorted(failed))


def test_the_loopback_is_the_grader_path():
    """A remote call returns the kernel's answer as data: a float32 scalar stays float32."""
    f = remote(lambda *args: np.float32(1.5), "var_of_product")
    assert isinstance(f, proxy.RemoteFunction) and type(f(1.0, 2.0, 3.0, 4.0)) is np.float32
