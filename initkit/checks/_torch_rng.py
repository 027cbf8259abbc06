"""The PyTorch track's unseeded path: torch's global generator (COURSE.md §5; issue 17, item 5).

``torch.nn.init``'s users never pass a generator: ``nn.Linear`` calls
``kaiming_uniform_(self.weight, a=math.sqrt(5))`` and a notebook calls
``torch.manual_seed(0)`` once, then builds its layers. So ``generator=None`` must mean "draw
from torch's global generator", and ``init_weights_torch(model)`` must draw from it too:

- two calls in a row without a generator give different values (else every layer built
  starts alike: ``generator or torch.Generator().manual_seed(1234)``);
- the same ``torch.manual_seed(s)`` before the call gives the same values (else something
  ``torch.manual_seed`` does not set decides the draw: a generator of the function's own,
  NumPy, ``torch.seed()``);
- another ``torch.manual_seed`` gives other values.

All exact comparisons of values (no α). Each probe has two halves: a *run* that calls the
student's function and reports what happened as plain data (values or digests of them,
torch's global state before and after each call, the error raised) — in this process, or in
the student's kernel when the function is the grader's stand-in (``initgrader.kernel_serve``
calls the same run) — and a *verdict* computed here from that data. The runs leave torch's
global generator as they found it (``torch.random.fork_rng``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ._engine import CheckFailed, Context, call_student, rng_words

NAN = float("nan")


# --- runs: where the student's code is ----------------------------------------------------------

def unseeded_runs(fn_, shape: tuple, seeds: list) -> list[dict]:
    """Call the in-place ``fn_(tensor)`` without a generator once per entry of ``seeds``: an
    int is given to ``torch.manual_seed`` first, None carries on from the previous call. The
    tensor is ``torch.full(shape, nan, requires_grad=True)``, as an nn.Parameter is (NaN
    shows a value the function never filled). Per call: {"values": float32 array or None,
    "raised": "" or "TypeError: …", "state_before", "state_after": torch's global state}."""
    import torch

    runs = []
    with torch.random.fork_rng(devices=[]):
        for seed in seeds:
            if seed is not None:
                torch.manual_seed(int(seed))
            with torch.no_grad():
                tensor = torch.full(tuple(shape), NAN, dtype=torch.float32).requires_grad_()
            before = torch.get_rng_state().numpy().copy()
            try:
                fn_(tensor)
                run = {"values": tensor.detach().numpy().copy(), "raised": ""}
            except Exception as exc:  # the verdict reads it: "crashes without a generator"
                first_line = (str(exc).strip().splitlines() or ["(no message)"])[0]
                run = {"values": None, "raised": f"{type(exc).__name__}: {first_line}"[:300]}
            run["state_before"], run["state_after"] = before, torch.get_rng_state().numpy().copy()
            runs.append(run)
    return runs


def global_rng_runs(fn, model_seed: int, seeds: list) -> list[dict]:
    """``init_weights_torch`` on fresh copies of the check's models (sizes from
    ``model_seed``), after ``torch.manual_seed(s)`` for each ``s`` in ``seeds``. Per call:
    {"names": weight names, "digests": SHA-256 of each weight's bytes, "state_before",
    "state_after"}."""
    import torch

    from ._init_weights import SENTINEL, _Call, torch_models

    runs = []
    with torch.random.fork_rng(devices=[]):
        for seed in seeds:
            names, digests = [], []
            models = torch_models(model_seed)
            for _, model in models:
                with torch.no_grad():
                    for p in model.parameters():
                        p.fill_(SENTINEL)
            torch.manual_seed(int(seed))
            before = torch.get_rng_state().numpy().copy()
            for description, model in models:
                call_student(_Call(fn, "init_weights_torch", description), "init_weights_torch", model)
                for name, p in model.named_parameters():
                    if name.endswith("weight") and p.dim() >= 2:  # Linear and Conv2d weights
                        values = p.detach().numpy()
                        names.append(f"{name} of {description}")
                        digests.append("untouched" if np.all(values == SENTINEL)  # coverage says so
                                       else hashlib.sha256(values.tobytes()).hexdigest())
            runs.append({"names": names, "digests": digests, "state_before": before,
                         "state_after": torch.get_rng_state().numpy().copy()})
    return runs


# --- verdicts: in the checking process ---------------------------------------------------------

def _probe_seeds(ctx: Context, stream: int) -> tuple[int, int]:
    s = int(ctx.rng(stream).integers(2**31 - 2))
    return s, s + 1


def _unreadable() -> CheckFailed:
    return CheckFailed("the kernel sent the unseeded calls' results in a form the check cannot read.")


def _state(run: dict, key: str) -> np.ndarray:
    state = run.get(key)
    if not isinstance(state, np.ndarray):
        raise _unreadable()
    return state


def assert_unseeded_path(fn, name: str, shape: tuple, ctx: Context) -> str:
    """The rng aspect's torch half: ``fn`` is ``from_torch(fn_)`` (or the grader's stand-in of
    it), whose ``.unseeded(shape, seeds)`` runs ``unseeded_runs`` where ``fn_`` lives."""
    s1, s2 = _probe_seeds(ctx, 5)
    if not callable(getattr(fn, "unseeded", None)):  # never skipped quietly: fail closed
        raise CheckFailed(f"{name} cannot be called without a generator here: pass it wrapped as "
                          f"from_torch({name}), as the notebook does.")
    runs = fn.unseeded(tuple(shape), [s1, None, s1, s2])
    if not isinstance(runs, list) or len(runs) != 4 or not all(isinstance(r, dict) for r in runs):
        raise _unreadable()
    student = getattr(fn, "__name__", name)
    example = rng_words(fn, name)[1]  # tensor.uniform_(…, generator=generator), or normal_ for normal laws
    call = f"{student}(torch.empty({tuple(shape)!r}, requires_grad=True))"
    why = (f"torch.nn.init's users call {student}(layer.weight) with no generator — as nn.Linear itself "
           "calls kaiming_uniform_(self.weight, a=math.sqrt(5))")
    for run in runs:
        if run.get("raised"):
            raise CheckFailed(
                f"{call} — no generator — raised {str(run['raised'])[:300]}: {why}. With generator=None "
                f"draw from torch's default generator: pass it on as it is, {example} accepts None."
            )
    values = [run.get("values") for run in runs]
    if not all(isinstance(v, np.ndarray) and v.shape == tuple(shape) for v in values):
        raise _unreadable()
    if np.isnan(values[0]).any():
        raise CheckFailed(f"{call} — no generator — left {int(np.isnan(values[0]).sum())} of the tensor's "
                          f"values unfilled: fill the tensor in place with generator=None too ({why}).")
    first, consecutive, again, other = values
    untouched = all(np.array_equal(_state(r, "state_before"), _state(r, "state_after")) for r in runs)
    reseeds = np.array_equal(_state(runs[0], "state_after"), _state(runs[3], "state_after"))
    if np.array_equal(first, consecutive) or np.array_equal(first, other):
        if reseeds and not untouched:
            raise CheckFailed(
                f"two calls {call} without a generator returned identical values, and after each torch's "
                f"global generator was in the same state: your function reseeds it (torch.manual_seed "
                f"inside?). That overwrites the caller's seed and gives every layer the same weights — "
                f"remove the torch.manual_seed call; with generator=None just draw from torch's default generator."
            )
        raise CheckFailed(
            f"two calls {call} without a generator returned identical values: with generator=None your "
            f"function draws from a fixed generator of its own (like `generator or "
            f"torch.Generator().manual_seed(1234)`, or an unseeded torch.Generator(), which always starts "
            f"alike), so every layer nn.Linear builds would get the same weights; {why}. Pass "
            f"generator=None on to torch ({example}): it then draws from torch's global generator."
        )
    if not np.array_equal(first, again):
        raise CheckFailed(
            f"torch.manual_seed({s1}) before {call} — no generator — did not reproduce its values: without a "
            f"generator your function draws from something torch.manual_seed does not set (a generator "
            f"of its own, NumPy, torch.seed()). With generator=None draw from torch's global generator "
            f"(pass generator=None on to tensor.uniform_ / torch.rand), so torch.manual_seed decides the draw."
        )
    return "without a generator: torch.manual_seed reproduces, calls in a row differ"


def assert_init_weights_global_rng(fn, ctx: Context) -> str:
    """The distribution aspect's torch half for ``init_weights_torch``: the same
    ``torch.manual_seed`` reproduces every weight, another changes every weight."""
    s1, s2 = _probe_seeds(ctx, 4)
    remote = getattr(fn, "torch_global_rng_remotely", None)
    runs = remote(ctx.seed, [s1, s1, s2]) if remote is not None else global_rng_runs(fn, ctx.seed, [s1, s1, s2])
    try:
        names = [str(n) for n in runs[0]["names"]]
        digests = [[str(d) for d in run["digests"]] for run in runs]
        if len(runs) != 3 or any(len(d) != len(names) for d in digests):
            raise TypeError
    except (TypeError, KeyError, IndexError):
        raise _unreadable() from None
    first, again, other = digests
    differ = [n for n, a, b in zip(names, first, again) if a != b]
    if differ:
        raise CheckFailed(
            f"torch.manual_seed({s1}) before two calls did not give the same weights ({differ[0]}): your "
            "function draws from something torch.manual_seed does not set (NumPy, torch.seed(), a generator "
            "of its own) — call torch.nn.init's functions without generator=, so that the caller's "
            "torch.manual_seed decides the draw."
        )
    same = [n for n, a, b in zip(names, first, other) if a == b != "untouched"]
    if same:
        untouched = all(np.array_equal(_state(r, "state_before"), _state(r, "state_after")) for r in runs)
        reseeds = not untouched and np.array_equal(_state(runs[0], "state_after"), _state(runs[2], "state_after"))
        if reseeds:
            raise CheckFailed(
                f"calls after torch.manual_seed({s1}) and torch.manual_seed({s2}) gave the same weights "
                f"({same[0]}), and left torch's global generator in the same state: your function reseeds "
                "it (torch.manual_seed inside init_weights_torch?). That throws away the caller's seed, so "
                "every model starts alike — remove it: seeding is the caller's choice, made before the call."
            )
        raise CheckFailed(
            f"calls after torch.manual_seed({s1}) and torch.manual_seed({s2}) gave the same weights "
            f"({same[0]}): your function draws from a generator of its own (torch.Generator().manual_seed(0)?), "
            "so torch.manual_seed does not decide the draw and every model starts alike — call "
            "torch.nn.init's functions without generator=: they draw from torch's global generator."
        )
    return "; drawn from torch's global generator"
