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


# --- the PyTorch track's unseeded path, probed in the kernel (issue 17, item 5) --------------------

import contextlib  # noqa: E402


@contextlib.contextmanager
def in_kernel(fn, name: str):
    """``fn`` as the grader sees it, for the length of a check: ``from_torch`` of it resolves
    the name again in the kernel (the adapter is built there), so the name stays defined."""
    main = sys.modules["__main__"].__dict__
    main[name] = fn
    try:
        channel = LoopbackChannel()
        yield proxy.RemoteFunction(channel, name, proxy._resolve(channel, name)), channel
    finally:
        del main[name]


def _torch_entries():
    try:
        from initkit.mistakes import load_track

        load_track("torch")
    except ImportError:
        return [], []
    pool = {**MISTAKES, **CORRECT}
    track = sorted(k for k, e in pool.items() if e.track == "torch" and not e.whole_model)
    models = sorted(k for k, e in pool.items() if e.target == "init_weights_torch")
    return track, models


TORCH_TRACK, TORCH_MODELS = _torch_entries()


@pytest.mark.frameworks
@pytest.mark.parametrize("key", TORCH_TRACK)
def test_the_torch_rng_aspect_keeps_its_verdict_through_the_grader(key):
    """The rng aspect — its unseeded probe included — graded through the proxy: the same verdict
    and message as in-process, and the probe ran in the kernel (its op was requested)."""
    entry = {**MISTAKES, **CORRECT}[key]
    check = getattr(checks, f"check_{entry.target}")
    here = failing_aspects(check, entry.graded, 0, only=("rng",))
    with in_kernel(entry.fn, entry.track_name) as (fn, channel):
        requested = []
        request = channel.request
        channel.request = lambda op, **fields: requested.append(op) or request(op, **fields)
        there = failing_aspects(check, checks.from_torch(fn), 0, only=("rng",))
    assert there == here
    if "rng" not in here or "without a generator" in here.get("rng", "") or "no generator" in here.get("rng", ""):
        assert "torch_unseeded" in requested, requested


@pytest.mark.frameworks
@pytest.mark.parametrize("key", TORCH_MODELS)
def test_init_weights_torch_global_rng_keeps_its_verdict_through_the_grader(key):
    entry = {**MISTAKES, **CORRECT}[key]
    here = failing_aspects(checks.check_init_weights_torch, entry.fn, 0, only=("distribution",))
    with in_kernel(entry.fn, "init_weights_torch") as (fn, channel):
        there = failing_aspects(checks.check_init_weights_torch, fn, 0, only=("distribution",))
    assert set(there) == set(here) == ({"distribution"} if entry.fails and "distribution" in entry.fails else set())
    assert there == here


@pytest.mark.frameworks
def test_a_kernel_that_sends_garbage_for_the_unseeded_probe_fails_the_aspect_not_the_grader():
    pytest.importorskip("torch")
    from initkit.mistakes import reference_track

    with in_kernel(reference_track("torch", "xavier_uniform_"), "xavier_uniform_") as (fn, _):
        adapted = checks.from_torch(fn)
        adapted.unseeded = lambda shape, seeds: [{"values": "nope"}] * 4
        with pytest.raises(AssertionError, match="in a form the check cannot read"):
            checks.check_xavier_uniform(adapted, aspect="rng")
