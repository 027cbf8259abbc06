"""Shared fixtures."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Run torch single-threaded where a test uses it: the tensors here are small, and on a
    busy 2-core machine torch's OpenMP workers spin against other processes (QR of a 3×5
    matrix went from 0.1 ms to 11 ms per call under load). Restored after each test."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
