"""The kernel's serve loop (``initgrader.kernel_serve``) in a process of its own, as in a
kernel: its main thread runs the loop, so the watchdog is live. One capture and one watchdog
thread serve the whole loop; these tests check that what each reply says still belongs to
that call alone, and that a call stopped by the watchdog leaves the loop serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

KERNEL = r'''
import os, sys, time, warnings
sys.path.insert(0, sys.argv[2])
from initgrader import kernel_serve

def noisy(x):
    print("python-level", x)
    os.write(1, b"fd-level\n")
    warnings.warn("careful")
    return x + 1

def quiet(x):
    return 2 * x

def sleeper(seconds):
    time.sleep(seconds)
    return "woke"

calls = []

def third_call_sleeps(shape, rng=None):
    calls.append(1)
    print("call", len(calls))
    if len(calls) == 3:
        time.sleep(30)
    return rng.standard_normal(shape)

kernel_serve.serve(sys.argv[1], float(sys.argv[3]))
'''


@pytest.fixture
def kernel(tmp_path):
    """(channel, resolve): a serve loop with a 2 s per-call budget in a child process."""
    from initgrader import proxy

    path = tmp_path / "s.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    listener.settimeout(60)
    child = subprocess.Popen([sys.executable, "-c", KERNEL, str(path), str(REPO), "2.0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        channel = proxy.Channel(listener.accept()[0], budget_s=120.0, grace_s=10.0)

        def resolve(name: str) -> int:
            reply = channel.request("resolve", name=name)
            assert reply["status"] == "ok", reply
            return reply["value"]["handle"]

        yield channel, resolve
        channel.close()
        out, err = child.communicate(timeout=30)
        assert child.returncode == 0, err.decode()
        assert b"python-level" not in out + err and b"fd-level" not in out + err  # all captured
    finally:
        listener.close()
        if child.poll() is None:
            child.kill()


def call(channel, handle: int, *args, budget_s: float = 2.0) -> dict:
    return channel.request("call", handle=handle, args=list(args), kwargs={}, budget_s=budget_s)


def test_each_reply_carries_only_what_its_own_call_printed_and_warned(kernel):
    channel, resolve = kernel
    noisy, quiet = resolve("noisy"), resolve("quiet")
    first = call(channel, noisy, 1)
    assert first["value"]["result"] == 2
    assert "python-level 1" in first["printed"] and "fd-level" in first["printed"]
    assert first["warnings"] == ["UserWarning: careful"]
    second = call(channel, quiet, 3)
    assert second["value"]["result"] == 6
    assert second["printed"] == "" and second["warnings"] == []
    third = call(channel, noisy, 5)
    assert third["printed"].count("python-level") == 1 and "python-level 5" in third["printed"]
    assert third["printed"].count("fd-level") == 1


def test_the_watchdog_stops_a_call_at_its_budget_and_the_loop_serves_on(kernel):
    channel, resolve = kernel
    sleeper, quiet = resolve("sleeper"), resolve("quiet")
    start = time.monotonic()
    stopped = call(channel, sleeper, 30, budget_s=1.0)  # the grader's remaining budget: 1 s
    took = time.monotonic() - start
    assert stopped["status"] == "timeout" and stopped["seconds"] == 1.0, stopped
    assert took < 10, took  # the loop's own budget is 2 s; a missed alarm would sleep 30 s
    for k in range(3):  # armed again for every call, and only while a call runs
        assert call(channel, quiet, k)["value"]["result"] == 2 * k
    time.sleep(2.5)  # past the loop's budget with no call running: nothing fires
    assert call(channel, sleeper, 0.1)["value"]["result"] == "woke"


def test_a_call_that_ends_in_time_is_not_interrupted_later(kernel):
    channel, resolve = kernel
    sleeper = resolve("sleeper")
    for _ in range(3):
        assert call(channel, sleeper, 0.6, budget_s=1.0)["value"]["result"] == "woke"


def test_calls_in_a_row_past_the_watchdog_hand_back_the_calls_before_it_then_time_out(kernel):
    """The kernel's watchdog stops the third call of a row at the loop's 2 s budget: the first
    two results come back, then the timeout (as three single calls would end), and the loop
    serves on."""
    import numpy as np

    from initgrader import proxy
    from initkit.checks._engine import CheckFailed

    channel, resolve = kernel
    fn = proxy.RemoteFunction(channel, "third_call_sleeps", proxy._resolve(channel, "third_call_sleeps"))
    rng = np.random.default_rng(0)
    row = fn.in_a_row(5, (2, 3), rng=rng)
    start = time.monotonic()
    first, second = row((2, 3), rng=rng), row((2, 3), rng=rng)
    with pytest.raises(CheckFailed, match="took over"):
        row((2, 3), rng=rng)
    assert time.monotonic() - start < 10  # stopped at the loop's budget, not after 30 s
    expected = np.random.default_rng(0)
    assert np.array_equal(first, expected.standard_normal((2, 3)))
    assert np.array_equal(second, expected.standard_normal((2, 3)))
    assert call(channel, resolve("quiet"), 4)["value"]["result"] == 8
