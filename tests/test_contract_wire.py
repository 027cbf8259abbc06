"""The deterministic catalogue graded the way the isolated grader grades it: the check runs
here, the student's function behind ``initgrader``'s proxy and kernel server, every request
and reply through the wire format (``initgrader.wire``) — in one process, without a
sandbox, so the data path is the real one and nothing else.

Every entry must keep its in-process verdict: the wire carries in-place edits of the
arguments back to the grader's copies, keeps an array's layout (C, F or a strided view) and
carries ``Fraction``, ``Decimal`` and ``complex`` as data (they were lost before: six
catalogue entries changed verdict through the grader).
"""

import io
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

    def request(self, op: str, max_reply_bytes: int = 0, **fields) -> dict:
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


# --- the random checks' draws: calls in a row, one round trip per batch (issue 19) ---------------

RANDOM_TARGETS = ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "truncated_normal",
                  "variance_scaling", "orthogonal")
RANDOM_ENTRIES = sorted(k for k, e in {**MISTAKES, **CORRECT}.items()
                        if e.target in RANDOM_TARGETS and e.track == "numpy")
# Orthogonal's single-call run sends 4,500 requests (~10 s an entry): a third of its entries,
# right and wrong, stand for the rest — the batching is the same code for every entry.
RANDOM_ENTRIES = [k for k in RANDOM_ENTRIES if not k.startswith("orthogonal/")] + \
    [k for k in RANDOM_ENTRIES if k.startswith("orthogonal/")][::3]


def _through_the_grader(entry, batched: bool, monkeypatch) -> tuple[dict, int]:
    """(failing aspects with their messages, requests sent) for ``entry`` graded through the
    loopback kernel — through its track's adapter, built in the kernel — its draws batched
    (``in_a_row``) or one call per request."""
    adapter = {"torch": checks.from_torch, "keras": checks.from_keras}.get(entry.track, lambda fn: fn)
    with monkeypatch.context() as m:
        if not batched:
            m.delattr(proxy.RemoteFunction, "in_a_row")
        with in_kernel(entry.fn, entry.target if entry.track == "numpy" else entry.track_name) as (fn, channel):
            found = failing_aspects(getattr(checks, f"check_{entry.target}"), adapter(fn), 0, fixed=entry.fixed)
            return found, channel.calls


@pytest.mark.parametrize("key", RANDOM_ENTRIES)
def test_batched_draws_give_every_random_entry_the_verdict_and_message_of_single_calls(key, monkeypatch):
    """Every random initializer of the NumPy catalogue, right and wrong, graded through the
    wire twice: its draws batched and call by call. Same failing aspects, same messages
    (what the function printed included); the batched run needs far fewer round trips."""
    entry = {**MISTAKES, **CORRECT}[key]
    batched, batched_requests = _through_the_grader(entry, True, monkeypatch)
    single, single_requests = _through_the_grader(entry, False, monkeypatch)
    assert batched == single
    assert set(batched) == set(entry.fails)
    if not entry.fails:  # every aspect ran to the end: the draws are most of the calls
        assert batched_requests * 3 < single_requests, (batched_requests, single_requests)


def test_calls_in_a_row_stop_at_the_call_that_raised_and_hand_back_the_calls_before_it():
    """Calls 1 and 3 print, call 3 raises. A call that prints ends its batch (its text rides in
    the header): batch one is call 1, batch two calls 2 and 3. Each call's output is replayed
    when that call is taken, not when its batch arrives; nothing is called past the error."""
    calls = []

    def third_call_raises(shape, rng=None):
        calls.append(len(calls))
        if len(calls) != 2:
            print(f"call {len(calls)}")
        if len(calls) == 3:
            raise ValueError("third call")
        return rng.standard_normal(shape)

    with in_kernel(third_call_raises, "xavier_uniform") as (fn, channel):
        rng = np.random.default_rng(0)
        row = fn.in_a_row(5, (2, 2), rng=rng)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            first = row((2, 2), rng=rng)
            assert out.getvalue() == "call 1\n"
            second = row((2, 2), rng=rng)
        assert out.getvalue() == "call 1\n"  # call 3 ran in the same batch; its output waits
        with pytest.raises(ValueError, match="third call"), contextlib.redirect_stdout(out):
            row((2, 2), rng=rng)
        assert out.getvalue() == "call 1\ncall 3\n"
        assert calls == [0, 1, 2] and channel.calls == 3  # resolve, then two batches
        expected = np.random.default_rng(0)
        assert np.array_equal(first, expected.standard_normal((2, 2)))
        assert np.array_equal(second, expected.standard_normal((2, 2)))


@pytest.mark.parametrize("target", ["xavier_uniform", "orthogonal"])
def test_calls_in_a_row_stop_after_a_result_the_contract_refuses(target, monkeypatch):
    """The kernel makes no call a loop of single calls would not make: the calls (the
    diagnosis's after the failure included) and the message are the same both ways."""
    def graded(batched: bool):
        calls = []

        def second_result_is_a_list(shape, rng=None):
            calls.append(shape)
            return rng.standard_normal(shape) if len(calls) != 2 else [0.0] * 4

        with monkeypatch.context() as m:
            if not batched:
                m.delattr(proxy.RemoteFunction, "in_a_row")
            with in_kernel(second_result_is_a_list, target) as (fn, _):
                found = failing_aspects(getattr(checks, f"check_{target}"), fn, 0,
                                        only=("distribution",), first=True)
        return found, calls

    (batched, batched_calls), (single, single_calls) = graded(True), graded(False)
    assert "returned a builtins.list" in batched["distribution"]
    assert (batched, batched_calls) == (single, single_calls)


def test_calls_in_a_row_fetch_again_past_the_byte_limit(monkeypatch):
    monkeypatch.setattr(proxy.CallsInARow, "BATCH_BYTES", 100)
    with in_kernel(lambda shape, rng=None: rng.standard_normal(shape), "xavier_uniform") as (fn, channel):
        rng = np.random.default_rng(1)
        got = list(checks._engine.calls_for_array(fn, "xavier_uniform", (3, 3), 7, rng=rng))
        assert channel.calls == 1 + 4  # resolve; then 72 bytes a call, a batch stops at ≥ 100: 2, 2, 2, 1
    expected = np.random.default_rng(1)
    assert all(np.array_equal(g, expected.standard_normal((3, 3))) for g in got)
    assert rng.bit_generator.state == expected.bit_generator.state  # ours moved as the kernel's did


def test_calls_in_a_row_fetch_again_past_the_count_limit(monkeypatch):
    monkeypatch.setattr(kernel_serve, "MAX_IN_A_ROW", 3)
    with in_kernel(lambda shape, rng=None: rng.standard_normal(shape), "xavier_uniform") as (fn, channel):
        rng = np.random.default_rng(2)
        got = list(checks._engine.calls_for_array(fn, "xavier_uniform", (2, 5), 7, rng=rng))
        assert channel.calls == 1 + 3  # resolve; then 3, 3 and 1 calls
    expected = np.random.default_rng(2)
    assert all(np.array_equal(g, expected.standard_normal((2, 5))) for g in got)


@pytest.mark.parametrize("garbage", [
    {"replies": "nope", "rng_states": []},
    {"replies": [], "rng_states": []},
    {"replies": [{"status": "ok", "value": np.zeros((2, 2))}] * 6, "rng_states": []},  # more than asked
    {"replies": [{"value": np.zeros((2, 2))}], "rng_states": []},
    {"replies": [{"status": "ok", "value": np.zeros((2, 2))}]},
])
def test_a_kernel_that_answers_calls_in_a_row_with_garbage_is_unresponsive(garbage, monkeypatch):
    with in_kernel(lambda shape, rng=None: rng.standard_normal(shape), "xavier_uniform") as (fn, channel):
        monkeypatch.setattr(channel.server, "calls_in_a_row",
                            lambda request: {"status": "ok", "value": garbage})
        rng = np.random.default_rng(0)
        row = fn.in_a_row(5, (2, 2), rng=rng)
        with pytest.raises(proxy.KernelUnresponsive, match="calls in a row without their results"):
            row((2, 2), rng=rng)


def test_arguments_holding_an_array_are_not_batched():
    with in_kernel(lambda shape, x=None, rng=None: rng.standard_normal(shape), "xavier_uniform") as (fn, _):
        assert fn.in_a_row(3, (2, 2), x=np.zeros(2), rng=np.random.default_rng(0)) is fn


def test_a_right_answer_that_prints_a_lot_in_every_call_keeps_its_verdict_through_the_grader():
    """A call's printed text rides in the reply's JSON header (≤ wire.MAX_HEADER_BYTES): the
    Haar test's 1,500 calls a shape, printing 4 KB of non-ASCII each (escaped ×6), would not
    fit in one — a call that prints ends its batch, and the answer passes as it does
    in-process."""
    from initkit.mistakes import reference

    right = reference("orthogonal")

    def chatty(shape, gain=1.0, rng=None):
        print("é" * 5000)
        return right(shape, gain=gain, rng=rng)

    here = failing_aspects(checks.check_orthogonal, chatty, 0, only=("distribution",))
    with in_kernel(chatty, "orthogonal") as (fn, _):
        there = failing_aspects(checks.check_orthogonal, fn, 0, only=("distribution",))
    assert there == here == {}


def _keras_variance_scaling_entries():
    try:
        from initkit.mistakes import load_track

        load_track("keras")
    except ImportError:
        return []
    return sorted(k for k, e in {**MISTAKES, **CORRECT}.items()
                  if e.track == "keras" and e.target == "variance_scaling")


@pytest.mark.frameworks
@pytest.mark.parametrize("key", _keras_variance_scaling_entries())
def test_batched_draws_through_the_keras_adapter_keep_verdict_and_message(key, monkeypatch):
    """The Keras adapter draws a seed from the generator at every call, in the kernel: batched
    or call by call, the same verdicts and messages for every Keras variance_scaling entry."""
    entry = {**MISTAKES, **CORRECT}[key]
    batched, _ = _through_the_grader(entry, True, monkeypatch)
    assert batched == _through_the_grader(entry, False, monkeypatch)[0]
    assert set(batched) == set(entry.fails)


@pytest.mark.frameworks
@pytest.mark.parametrize("key", [k for k in TORCH_TRACK if "orthogonal" not in k])
def test_batched_draws_through_the_torch_adapter_keep_verdict_and_message(key, monkeypatch):
    """Every PyTorch-track entry but orthogonal's (4,500 single calls each), every aspect:
    batched or call by call, the same verdicts and messages."""
    entry = {**MISTAKES, **CORRECT}[key]
    batched, _ = _through_the_grader(entry, True, monkeypatch)
    assert batched == _through_the_grader(entry, False, monkeypatch)[0]
    assert set(batched) == set(entry.fails)
