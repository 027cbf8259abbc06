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
- the global random state before and after calls (the rng aspect's "global state untouched");
- the weights of the check's models after ``init_weights_*`` ran on them;
- the Keras ``get_config`` round trip's verdict.

Requests are dicts with an ``op``; replies are dicts with a ``status``:
``ok`` (``value``), ``raised`` (``error``, and ``raiser`` for NotImplementedError),
``check_failed`` (an adapter's verdict, ``message``) or ``refused`` (a bad request).
Every reply also carries what the student's code ``printed`` and the ``warnings`` it raised.
"""

from __future__ import annotations

import socket
import sys
import traceback

import numpy as np

# Imported when the kernel starts (IsolatedExecute's exec_lines), before any student code: a
# notebook that later patches builtins or scipy cannot break these imports.
from initgrader import wire
from initkit.checks import _adapters, _engine, _guard, _init_weights

#: Seconds one call of the student's code may take here before the in-kernel watchdog
#: interrupts it (the grader enforces its own, longer deadline from outside).
CALL_BUDGET_S = 60.0


def serve(path: str, budget_s: float = CALL_BUDGET_S) -> None:
    """Connect to the grader's socket ``path`` and answer requests until it says ``done``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    serve_connected(sock, budget_s)


def serve_connected(sock: socket.socket, budget_s: float = CALL_BUDGET_S) -> None:
    """Answer requests on a connected socket until the grader says ``done``; then close it."""
    server = _Server(budget_s)
    try:
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


class _Server:
    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.handles: dict[int, object] = {}

    def answer(self, request: dict) -> dict:
        op = request.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            return {"status": "refused", "message": f"unknown op {op!r}"}
        return self.guarded(handler, request)

    def guarded(self, handler, request: dict) -> dict:
        """Run ``handler`` with the student's output captured and under the watchdog."""
        CheckFailed, NotImplementedYet = _engine.CheckFailed, _engine.NotImplementedYet
        reply: dict
        with _guard.captured_output() as noise:
            try:
                with _guard.Watchdog(self.budget_s) as watchdog:
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
                reply = {"status": "timeout", "seconds": self.budget_s} if watchdog.fired \
                    else {"status": "raised", "error": RuntimeError("interrupted")}
        reply["printed"] = noise.text[:4096]
        reply["warnings"] = noise.warnings[:20]
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
        states = [a.bit_generator.state if isinstance(a, np.random.Generator) else None for a in given]
        # An input the function changed in place (values or shape) goes back, so the grader's
        # copy changes alike and "inputs untouched" sees it.
        changed = [a if isinstance(a, np.ndarray) and (a.shape != b.shape or not np.array_equal(a, b, equal_nan=True))
                   else None for a, b in zip(given, before)]
        return {"result": result, "rng_states": states, "changed_inputs": changed}

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
                 "nested": bool(p.nested)} for p in params]


def _user_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    return sys.modules["__main__"].__dict__


def _innermost_function(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else ""
