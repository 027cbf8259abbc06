"""The grader's half of the proxy: evaluate a graded test cell in the grader's own process,
with every name of the student's replaced by a stand-in that calls into the kernel
(COURSE.md §9).

The cell's source is the instructor's (nbgrader restored it from the gradebook). Names it
binds itself (``from initkit.checks import check_xavier_uniform``, ``import numpy as np``)
are the grader's; every other free name is looked up in the student's kernel and becomes a
``RemoteFunction`` (or a ``RemoteValue`` when it is not callable). Calling one sends the
arguments over the wire, the kernel runs the student's code, and the result comes back as
data. The check itself — statistics, thresholds, the verdict and its message — runs here,
where the student's code cannot reach it.

Time: the student's calls of one test cell share ``CELL_BUDGET_S`` (a check's own budget,
``initkit.checks._guard.CHECK_BUDGET_S``); the kernel's watchdog stops a call at the budget
and the grader waits ``GRACE_S`` more before it declares the kernel unresponsive.
"""

from __future__ import annotations

import ast
import builtins
import collections
import contextlib
import io
import math
import socket
import time
import warnings

import numpy as np

from . import wire

#: Seconds the student's calls of one test cell may take in all.
CELL_BUDGET_S = 60.0
#: Seconds the grader waits beyond a deadline for the kernel's own timeout reply.
GRACE_S = 10.0
#: Largest reply the grader reads (a check asks for at most 64 MiB of samples at once).
MAX_REPLY_BYTES = 96 << 20


class KernelUnresponsive(BaseException):
    """The kernel did not answer in time, broke the protocol or closed the connection.

    A BaseException, like KeyboardInterrupt: the checks turn every ``Exception`` raised by the
    student's function into a verdict, but this one must reach the execute step, which stops
    the kernel and restarts it."""


class Channel:
    """One connected serve loop: requests and replies under the cell's time budget."""

    def __init__(self, sock: socket.socket, budget_s: float = CELL_BUDGET_S, grace_s: float = GRACE_S) -> None:
        self.sock, self.budget_s, self.grace_s, self.used_s = sock, budget_s, grace_s, 0.0
        self.broken: str | None = None
        self.calls = 0
        self._timeout: float | None = None

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.budget_s - self.used_s)

    def request(self, op: str, max_reply_bytes: int = 0, **fields) -> dict:
        """Send one request, wait for its reply (at most ``max_reply_bytes``, by default
        ``MAX_REPLY_BYTES``)."""
        if self.broken:
            raise KernelUnresponsive(self.broken)
        start = time.perf_counter()
        timeout = math.ceil(self.remaining_s + self.grace_s)  # whole seconds: set again only when it changes
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout
        try:
            wire.send(self.sock, {"op": op, **fields})
            reply = wire.receive(self.sock, max_reply_bytes or MAX_REPLY_BYTES)
        except (OSError, EOFError, wire.WireError) as exc:
            self.broken = _why_broken(exc)
            raise KernelUnresponsive(self.broken) from None
        finally:
            self.used_s += time.perf_counter() - start
            self.calls += 1
        if not isinstance(reply, dict) or not isinstance(reply.get("status"), str):
            self.broken = "the kernel answered something that is not a reply"
            raise KernelUnresponsive(self.broken)
        return reply

    def close(self) -> None:
        if not self.broken:
            with contextlib.suppress(OSError):
                self.sock.settimeout(1.0)
                wire.send(self.sock, {"op": "done"})
        self.sock.close()


def _why_broken(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "your code did not answer within its time budget, so the grader stopped the kernel"
    if isinstance(exc, wire.WireError):
        return f"the kernel's reply broke the rules: {exc}"
    return "the kernel closed the connection (did your code exit, or kill its own process?)"


# --------------------------------------------------------------------------- stand-ins

class CallsInARow:
    """Calls of one ``RemoteFunction`` with the same arguments, made in the kernel a batch
    at a time (op ``call_in_a_row``): each call of this object returns the next call's result
    or raises its error, after replaying what that call printed and warned — the check sees
    what as many single calls would show it, in the same order. Only the grader's copy of a
    generator argument moves once per batch, to where the kernel's ended: nothing reads it
    between the calls of a row."""

    #: Bytes of results the kernel collects before it answers (plus one result of any size).
    BATCH_BYTES = 8 << 20

    def __init__(self, remote: RemoteFunction, count: int, args: tuple, kwargs: dict) -> None:
        self._remote, self._left, self._args, self._kwargs = remote, int(count), args, kwargs
        self._ready: collections.deque = collections.deque()
        self.__name__ = remote.__name__

    def __getattr__(self, name: str):  # describe, track, …: how the function's calls are named
        return getattr(self._remote, name)

    def __call__(self, *args, **kwargs):
        if args != self._args or kwargs.keys() != self._kwargs.keys() \
                or any(v is not self._kwargs[k] and v != self._kwargs[k] for k, v in kwargs.items()):
            raise RuntimeError("CallsInARow: called with arguments other than its own")
        if not self._ready:
            self._fetch()
        return self._remote._outcome(self._ready.popleft())

    def _fetch(self) -> None:
        if self._left <= 0:
            raise RuntimeError("CallsInARow: called more often than its count")
        value = self._remote._request("call_in_a_row", args=list(self._args), kwargs=self._kwargs,
                                      count=self._left, max_bytes=self.BATCH_BYTES,
                                      max_reply_bytes=MAX_REPLY_BYTES + self.BATCH_BYTES)
        replies = value.get("replies") if isinstance(value, dict) else None
        if not (isinstance(replies, list) and 0 < len(replies) <= self._left
                and all(isinstance(r, dict) and isinstance(r.get("status"), str) for r in replies)
                and isinstance(value.get("rng_states"), list)):
            raise KernelUnresponsive("the kernel's reply broke the rules: calls in a row without their results")
        _advance_generators((*self._args, *self._kwargs.values()), value["rng_states"])
        self._left -= len(replies)
        self._ready.extend(replies)


class RemoteValue:
    """A name of the notebook that is not callable: shown by its repr, nothing more."""

    def __init__(self, facts: dict) -> None:
        self._facts = facts

    def __repr__(self) -> str:
        return str(self._facts.get("repr", "<value>"))


class RemoteFunction:
    """The student's function (possibly through an adapter), living in the kernel."""

    def __init__(self, channel: Channel, name: str, facts: dict, adapter: str | None = None) -> None:
        self._channel, self._name, self._facts, self._adapter = channel, name, facts, adapter
        self.__name__ = str(facts.get("name") or name)
        self.library_origin_fact = str(facts.get("origin") or "")
        if adapter is not None:
            from initkit.checks import _adapters

            self.track = self.layout = adapter
            self.describe = _adapters.describer(adapter, self.__name__)
            if adapter == "keras":
                self.extra_interface = self._extra_interface
            else:
                self.unseeded = self._unseeded

    # --- what the checks call -----------------------------------------------------------

    def __call__(self, *args, **kwargs):
        value = self._request("call", args=list(args), kwargs=kwargs)
        given = (*args, *kwargs.values())
        _advance_generators(given, value["rng_states"])
        for arg, after in zip(given, value.get("changed_inputs") or ()):
            if isinstance(arg, np.ndarray) and isinstance(after, np.ndarray):
                _change_alike(arg, after)
        return value["result"]

    def through_adapter(self, adapter: str) -> RemoteFunction:
        """``from_torch(fn)`` / ``from_keras(cls)`` of this function, built in the kernel."""
        facts = _resolve(self._channel, self._name, adapter)
        return RemoteFunction(self._channel, self._name, facts, adapter)

    def _extra_interface(self) -> str:
        return self._request("extra_interface")

    def global_rng_seed(self, seed: int) -> None:
        self._channel.request("seed_global", seed=int(seed))

    def global_rng_state(self) -> tuple:
        state = self._request("global_state")
        return state["numpy"], state["torch"]

    def _unseeded(self, shape: tuple, seeds: list) -> list:
        """``from_torch(fn).unseeded``: calls without a generator, run in the kernel."""
        return self._request("torch_unseeded", shape=[int(n) for n in shape],
                             seeds=[None if s is None else int(s) for s in seeds])

    def torch_global_rng_remotely(self, seed: int, seeds: list) -> list:
        """``init_weights_torch`` after ``torch.manual_seed`` of each seed, run in the kernel."""
        return self._request("torch_global_rng", seed=int(seed), seeds=[int(s) for s in seeds])

    def initialized_remotely(self, track: str, seed: int, stream: int, seed_offset: int) -> list:
        return self._request("initialized", track=track, seed=int(seed), stream=int(stream),
                             seed_offset=int(seed_offset))

    # --- one request, its output and its outcome ----------------------------------------

    def in_a_row(self, count: int, *args, **kwargs) -> CallsInARow | RemoteFunction:
        """``count`` calls with these arguments, made in the kernel a batch at a time (what
        ``initkit.checks._engine.calls_for_array`` looks for). Arguments holding an array go
        call by call: the kernel sends back what a call changed in them."""
        if any(isinstance(a, np.ndarray) for a in (*args, *kwargs.values())):
            return self
        return CallsInARow(self, count, args, kwargs)

    def _request(self, op: str, max_reply_bytes: int = 0, **fields):
        from initkit.checks._engine import CheckFailed, timeout_message

        channel = self._channel
        if channel.remaining_s <= 0:
            raise CheckFailed(timeout_message(channel.budget_s))
        reply = channel.request(op, handle=self._facts["handle"], budget_s=channel.remaining_s,
                                max_reply_bytes=max_reply_bytes, **fields)
        value = self._outcome(reply)
        if op == "call" and not (isinstance(value, dict) and "result" in value
                                 and isinstance(value.get("rng_states"), list)):
            raise KernelUnresponsive("the kernel's reply broke the rules: a call without a result")
        return value

    def _outcome(self, reply: dict):
        """The value of one reply (one call's, or one request's), or its error raised here,
        after replaying what the student's code printed and warned."""
        from initkit.checks._engine import CheckFailed, NotImplementedYet, timeout_message

        channel = self._channel
        _replay_noise(reply)
        status = reply["status"]
        if status == "ok":
            return reply.get("value")
        if status == "check_failed":
            cls = NotImplementedYet if reply.get("not_implemented") else CheckFailed
            raise cls(str(reply.get("message", ""))[:4 * wire.MAX_MESSAGE])
        if status == "timeout":
            channel.used_s = channel.budget_s
            raise CheckFailed(timeout_message(channel.budget_s))
        if status == "raised":
            error = reply.get("error")
            if not isinstance(error, BaseException):
                error = RuntimeError("(an exception the grader could not read)")
            error.raiser = str(reply.get("raiser", ""))
            raise error
        raise KernelUnresponsive(f"the kernel refused a request: {reply.get('message', status)}")


def _advance_generators(given: tuple, states: list) -> None:
    """The kernel drew from its copies of the generator arguments: advance ours alike."""
    for arg, state in zip(given, states):
        if isinstance(arg, np.random.Generator) and isinstance(state, dict):
            arg.bit_generator.state = state


def _change_alike(arg: np.ndarray, after: np.ndarray) -> None:
    """Apply to the grader's input what the student's function did to the kernel's copy: a new
    shape (``x.shape = …``) where it fits, new values where they fit; otherwise mark it changed
    by a value no correct function writes (NaN), so "inputs untouched" still sees it."""
    try:
        if arg.shape != after.shape and arg.size == after.size:
            arg.shape = after.shape
        np.copyto(arg, after, casting="unsafe")
    except (ValueError, AttributeError, TypeError):
        if arg.size and arg.dtype.kind == "f":
            arg.flat[0] = np.nan


def _replay_noise(reply: dict) -> None:
    """What the student's code printed and warned, replayed where the check records it."""
    printed = reply.get("printed")
    if isinstance(printed, str) and printed:
        print(printed, end="")
    for text in reply.get("warnings") or ():
        warnings.warn(str(text)[:wire.MAX_MESSAGE], UserWarning, stacklevel=2)


def _resolve(channel: Channel, name: str, adapter: str | None = None) -> dict:
    reply = channel.request("resolve", name=name, adapter=adapter, budget_s=channel.remaining_s)
    if reply["status"] == "ok" and isinstance(reply.get("value"), dict):
        return reply["value"]
    error = reply.get("error")
    if isinstance(error, BaseException):
        raise error
    from initkit.checks._engine import CheckFailed

    raise CheckFailed(str(reply.get("message", "the kernel could not look the name up")))


# --------------------------------------------------------------------------- a test cell

def free_names(source: str) -> list[str]:
    """Names the cell reads but never binds (nor are built-ins): the student's names."""
    tree = ast.parse(source)
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return sorted(n for n in loaded - bound if not hasattr(builtins, n))


def evaluate(source: str, channel: Channel) -> tuple[str, BaseException | None]:
    """Run the instructor's test cell here against the kernel's names: (stdout, error or None)."""
    from initkit.checks import _guard

    namespace: dict = {"__name__": "__graded_cell__"}
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), _guard.watchdog_disabled():
        try:
            for name in free_names(source):
                try:
                    facts = _resolve(channel, name)
                except NameError:
                    continue  # left unbound: the cell raises NameError where it uses it
                namespace[name] = RemoteFunction(channel, name, facts) if facts.get("callable") \
                    else RemoteValue(facts)
            exec(compile(source, "<graded cell>", "exec"), namespace)  # the instructor's source
        except KernelUnresponsive:
            raise
        except BaseException as exc:  # noqa: BLE001 — the cell's verdict, whatever it is
            error = exc
    return out.getvalue(), error
