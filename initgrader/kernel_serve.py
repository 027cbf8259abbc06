"""The kernel's half of the proxy: runs inside the student's confined kernel, one serve loop
per graded test cell (COURSE.md §9).

The grader evaluates a test cell in its own process; wherever the check touches the
student's function, it sends a request here over a private Unix socket, and this loop runs
the student's code and answers with data in the wire format (``initgrader.wire``). Whatever
touches student objects runs here: the ``from_torch`` / ``from_keras`` adapters, the models of
``init_weights_*``, reads of NumPy's and torch's global random state.

Everything this module answers is *forgeable*: the student's code runs in this process and
may replace any of it. The grader treats every answer as what the student's function
returned, checks its type and size, and computes the verdict itself. The facts that come
from here and only from here:

- what the student's function returned or raised for each call (the answer itself);
- whether an object is a library function (``library_origin``) and its ``__name__``;
- the global random state before and after calls (the rng aspect's "global state untouched",
  and torch's around the PyTorch track's calls without a generator);
- the weights of the check's models after ``init_weights_*`` ran on them;
- the Keras ``get_config`` round trip's verdict.

Requests are dicts with an ``op``; replies are dicts with a ``status``:
``ok`` (``value``), ``raised`` (``error``, and ``raiser`` for NotImplementedError),
``check_failed`` (an adapter's verdict, ``message``) or ``refused`` (a bad request).
Every reply also carries what the student's code ``printed`` and the ``warnings`` it raised.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import warnings

import numpy as np

# Imported when the kernel starts (IsolatedExecute's exec_lines), before any student code: a
# notebook that later patches builtins or scipy cannot break these imports.
from initgrader import wire
from initkit.checks import _adapters, _engine, _guard, _init_weights, _torch_rng

#: Seconds one call of the student's code may take here before the in-kernel watchdog
#: interrupts it (the grader enforces its own, longer deadline from outside).
CALL_BUDGET_S = 60.0
#: Most calls one ``call_in_a_row`` reply carries (its header stays far below wire.MAX_NODES).
MAX_IN_A_ROW = 2000


def serve(path: str, budget_s: float = CALL_BUDGET_S) -> None:
    """Connect to the grader's socket ``path`` and answer requests until it says ``done``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    serve_connected(sock, budget_s)


def serve_connected(sock: socket.socket, budget_s: float = CALL_BUDGET_S) -> None:
    """Answer requests on a connected socket until the grader says ``done``; then close it.

    Output capture and the watchdog thread are set up once per loop, not per call: starting
    a thread and redirecting fds for every call cost ~0.5 ms, most of a call's round trip."""
    try:
        with _LoopCapture() as capture, _Alarm() as alarm:
            server = _Server(budget_s, capture, alarm)
            while True:
                try:
                    request = wire.receive(sock, 1 << 28)
                except EOFError:
                    return
                if not isinstance(request, dict) or request.get("op") == "done":
                    return
                wire.send(sock, server.answer(request))
    finally:
        sock.close()


class _LoopCapture:
    """sys.stdout/sys.stderr, fds 1 and 2 and warnings captured for a whole serve loop;
    ``take()`` returns (and forgets) what was printed and warned since the last call."""

    KEPT_BYTES = 4096  # what a reply carries of the student's output (and what is read of fds 1, 2)

    def __enter__(self) -> _LoopCapture:
        self._sink = tempfile.TemporaryFile(mode="w+b")
        self._saved = _guard._redirect_fds(self._sink)
        self._text = io.StringIO()
        self._stack = contextlib.ExitStack()
        self._caught = self._stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        self._stack.enter_context(contextlib.redirect_stdout(self._text))
        self._stack.enter_context(contextlib.redirect_stderr(self._text))
        return self

    def take(self) -> tuple[str, list[str]]:
        text = ""
        if self._text.tell():
            text = self._text.getvalue()[:self.KEPT_BYTES]
            self._text.seek(0)
            self._text.truncate()
        fd = self._sink.fileno()  # fds 1 and 2 share its offset: rewind it after reading
        if os.fstat(fd).st_size:
            text += os.pread(fd, self.KEPT_BYTES, 0).decode("utf-8", "replace")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        caught = []
        if self._caught:
            caught = [f"{w.category.__name__}: {w.message}" for w in self._caught[:20]]
            del self._caught[:]
        return text[:self.KEPT_BYTES], caught

    def __exit__(self, *exc) -> bool:
        self._stack.close()
        _guard._restore_fds(self._saved)
        self._sink.close()
        return False


class _Alarm:
    """One watchdog thread per serve loop, armed for each call: past its deadline it sends the
    main thread a SIGINT (which also wakes ``time.sleep`` and blocking reads). Like
    ``initkit.checks._guard.Watchdog``, it acts only in a main thread with Python's own SIGINT
    handler — a kernel's, where the serve loop runs; elsewhere the grader's deadline is all."""

    def __init__(self) -> None:
        self.fired = False
        self._deadline: float | None = None
        self._closed = False
        self._idle = False  # the thread waits for no deadline at all
        self._cond = threading.Condition()
        self._active = _guard._watchdog_enabled and threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def __enter__(self) -> _Alarm:
        if self._active:
            threading.Thread(target=self._run, daemon=True, name="initgrader-watchdog").start()
        return self

    def arm(self, seconds: float) -> None:
        with self._cond:
            self.fired = False
            self._deadline = time.monotonic() + seconds
            # Deadlines only move later: a thread asleep until an earlier one wakes, finds
            # this one and sleeps again. Only a thread waiting for no deadline needs waking
            # (a wake-up per call would cost a thread switch per call).
            if self._idle:
                self._cond.notify()

    def disarm(self, interrupted: bool) -> None:
        with self._cond:
            self._deadline = None
            fired = self.fired
        if fired and not interrupted:  # sent but not raised yet: absorb it here
            try:
                time.sleep(1.0)
            except KeyboardInterrupt:
                pass

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._idle = True
                    self._cond.wait()
                    self._idle = False
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._deadline, self.fired = None, True
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def __exit__(self, *exc) -> bool:
        with self._cond:
            self._closed = True
            self._cond.notify()
        return False


class _Server:
    def __init__(self, budget_s: float, capture: _LoopCapture, alarm: _Alarm) -> None:
        self.budget_s = budget_s
        self.capture, self.alarm = capture, alarm
        self.handles: dict[int, object] = {}

    def answer(self, request: dict) -> dict:
        op = request.get("op")
        if op == "call_in_a_row":  # each of its calls is guarded on its own
            return self.calls_in_a_row(request)
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            return {"status": "refused", "message": f"unknown op {op!r}"}
        return self.guarded(handler, request)

    def guarded(self, handler, request: dict) -> dict:
        """Run ``handler`` under the armed watchdog; attach what the student's code printed."""
        CheckFailed, NotImplementedYet = _engine.CheckFailed, _engine.NotImplementedYet
        reply: dict
        interrupted = False
        budget = min(self.budget_s, _seconds(request.get("budget_s"), self.budget_s))
        try:
            self.alarm.arm(budget)
            try:
                reply = {"status": "ok", "value": handler(request)}
            except NotImplementedYet as exc:
                reply = {"status": "check_failed", "message": str(exc), "not_implemented": True}
            except CheckFailed as exc:
                reply = {"status": "check_failed", "message": str(exc)}
            except NotImplementedError as exc:
                reply = {"status": "raised", "error": exc, "raiser": _innermost_function(exc)}
            except Exception as exc:
                reply = {"status": "raised", "error": exc}
        except KeyboardInterrupt:
            interrupted = True
            reply = {"status": "timeout", "seconds": budget} if self.alarm.fired \
                else {"status": "raised", "error": RuntimeError("interrupted")}
        finally:
            self.alarm.disarm(interrupted)
        reply["printed"], reply["warnings"] = self.capture.take()
        return reply

    # --- ops --------------------------------------------------------------------------

    def op_resolve(self, request: dict) -> dict:
        """Look up a name of the notebook (optionally through an adapter): its handle and facts."""
        from_keras, from_torch, library_origin = _adapters.from_keras, _adapters.from_torch, _engine.library_origin
        namespace = _user_namespace()
        name = str(request["name"])
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined")
        obj = namespace[name]
        adapter = request.get("adapter")
        origin = library_origin(obj)
        if adapter == "torch":
            obj = from_torch(obj)
        elif adapter == "keras":
            obj = from_keras(obj)
        handle = len(self.handles) + 1
        self.handles[handle] = obj
        return {"handle": handle, "callable": callable(obj), "name": str(getattr(obj, "__name__", name)),
                "origin": origin, "repr": wire._safe_repr(obj), "is_class": isinstance(obj, type)}

    def op_call(self, request: dict):
        fn = self.handles[request["handle"]]
        args, kwargs = list(request.get("args", ())), dict(request.get("kwargs", {}))
        given = [*args, *kwargs.values()]
        before = [a.copy() if isinstance(a, np.ndarray) else None for a in given]
        result = fn(*args, **kwargs)
        states = _generator_states(given)
        # An input the function changed in place (values or shape) goes back, so the grader's
        # copy changes alike and "inputs untouched" sees it.
        changed = [a if isinstance(a, np.ndarray) and (a.shape != b.shape or not np.array_equal(a, b, equal_nan=True))
                   else None for a, b in zip(given, before)]
        return {"result": result, "rng_states": _trimmed(states), "changed_inputs": _trimmed(changed)}

    def calls_in_a_row(self, request: dict) -> dict:
        """Up to ``count`` calls of one function with the same arguments (the checks' draws),
        each guarded as a single ``call`` is, with the rest of the request's budget: one reply
        per call, as ``guarded`` makes it but holding the bare result. It stops after a call
        that raised or timed out, after a result the contract refuses
        (``_engine.contract_problem``: the grader would stop there too), after a call that
        printed or warned, or once the results hold ``max_bytes``. The generators' states
        after the last call come back once."""
        fn = self.handles[request["handle"]]
        args, kwargs = list(request.get("args", ())), dict(request.get("kwargs", {}))
        given = [*args, *kwargs.values()]
        if not args or any(isinstance(a, np.ndarray) for a in given):
            return {"status": "refused", "message": "call_in_a_row takes a shape first and no arrays"}
        count, max_bytes = max(1, int(request["count"])), int(request["max_bytes"])
        deadline = time.monotonic() + _seconds(request.get("budget_s"), self.budget_s)
        replies, size = [], 0
        while len(replies) < min(count, MAX_IN_A_ROW) and size < max_bytes:
            left = max(1e-3, deadline - time.monotonic())  # none left: the watchdog fires at once
            reply = self.guarded(lambda _: fn(*args, **kwargs), {"budget_s": left})
            replies.append({k: v for k, v in reply.items() if k == "value" or v})  # no empty noise
            if reply["status"] != "ok" or _engine.contract_problem(reply["value"], args[0]):
                break
            if reply["printed"] or reply["warnings"]:  # its text rides in the reply's header,
                break                                   # which wire.MAX_HEADER_BYTES bounds
            size += reply["value"].nbytes
        states = _generator_states(given)
        return {"status": "ok", "value": {"replies": replies, "rng_states": _trimmed(states)},
                "printed": "", "warnings": []}

    def op_extra_interface(self, request: dict):
        return self.handles[request["handle"]].extra_interface()

    def op_seed_global(self, request: dict) -> None:
        np.random.seed(int(request["seed"]))

    def op_global_state(self, request: dict) -> dict:
        """NumPy's and (if loaded) torch's global random state, as arrays."""
        state = np.random.get_state()
        torch = sys.modules.get("torch")
        return {"numpy": [state[0], state[1], *state[2:]],
                "torch": torch.get_rng_state().numpy().copy() if torch is not None else None}

    def op_torch_unseeded(self, request: dict) -> list:
        """The rng aspect's probe of a ``from_torch`` adapter: the student's function called
        without a generator after ``torch.manual_seed`` (``_torch_rng.unseeded_runs``)."""
        fn = self.handles[request["handle"]]
        shape = tuple(int(n) for n in request["shape"])
        seeds = [None if s is None else int(s) for s in request["seeds"]]
        return fn.unseeded(shape, seeds)

    def op_torch_global_rng(self, request: dict) -> list:
        """``init_weights_torch`` run after ``torch.manual_seed`` of each seed: weight digests and
        torch's global state (``_torch_rng.global_rng_runs``)."""
        fn = self.handles[request["handle"]]
        return _torch_rng.global_rng_runs(fn, int(request["seed"]), [int(s) for s in request["seeds"]])

    def op_initialized(self, request: dict) -> list:
        """Run initkit's own init_weights harness on the student's function here; send the
        parameters back as data (the grader recomputes each weight's target law itself)."""
        fn, track = self.handles[request["handle"]], request["track"]
        ctx = _engine.Context(f"init_weights_{track}", int(request["seed"]), {})
        if track == "torch":
            params = _init_weights.initialized_torch(fn, ctx, int(request["stream"]))
        else:
            params = _init_weights.initialized_keras(fn, ctx, int(request["stream"]), int(request["seed_offset"]))
        return [{"model": p.model, "name": p.name, "layer": p.layer, "role": p.role,
                 "values": np.asarray(p.values, dtype=np.float64), "fans": tuple(int(f) for f in p.fans),
                 "nested": bool(p.nested), "initializer_set": bool(p.initializer_set)} for p in params]


def _user_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    return sys.modules["__main__"].__dict__


def _generator_states(given: list) -> list:
    """The state of each generator argument after the calls (None for other arguments)."""
    return [a.bit_generator.state if isinstance(a, np.random.Generator) else None for a in given]


def _trimmed(items: list) -> list:
    """``items`` without its trailing Nones (positions kept: the grader zips them with the arguments)."""
    while items and items[-1] is None:
        items.pop()
    return items


def _seconds(value, default: float) -> float:
    """The grader's remaining budget for this call (a positive number), else ``default``."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else default


def _innermost_function(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else ""
