"""The diagnosis reads the catalogue as plain data (``initkit/checks/_catalogue.py``), so the
checks stand on their own: importing or running them never imports ``initkit.mistakes``."""

import subprocess
import sys
from pathlib import Path

import pytest

from initkit.checks import _catalogue
from initkit.checks._diagnosis import PROBERS, _quietly, catalogued
from initkit.checks._engine import Context
from initkit.mistakes import MISTAKES, table

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_table_is_the_catalogues():
    built = table.build()
    assert list(_catalogue.MISTAKES) == list(built), "run: python -m initkit.mistakes.table"
    assert _catalogue.MISTAKES == built, "run: python -m initkit.mistakes.table"
    assert table.PATH.read_text(encoding="utf-8") == table.render(built), "run: python -m initkit.mistakes.table"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_importing_the_checks_does_not_import_the_catalogue():
    done = _run("import initkit.checks, sys; "
                "assert not any(m.startswith('initkit.mistakes') for m in sys.modules), "
                "[m for m in sys.modules if m.startswith('initkit.mistakes')]")
    assert done.returncode == 0, done.stderr


def test_a_diagnosis_does_not_import_the_catalogue():
    source = MISTAKES["xavier_uniform/std_as_bound"].source
    done = _run("import math, sys\nimport numpy as np\nfrom initkit.checks import check_xavier_uniform\n"
                + source + "\ntry:\n    check_xavier_uniform(xavier_uniform, aspect='scale')\n"
                "except AssertionError as exc:\n    print(exc)\n"
                "assert not any(m.startswith('initkit.mistakes') for m in sys.modules)\n")
    assert done.returncode == 0, done.stderr
    assert "Diagnosis:" in done.stdout and "did you use the std as the bound?" in done.stdout, done.stdout


def _one_per_target_and_track():
    seen = {}
    for key, entry in _catalogue.MISTAKES.items():
        if "rng" not in entry["fails"]:  # (one drawing from a global RNG differs call to call)
            seen.setdefault((entry["target"], entry["track"]), key)
    return sorted(seen.values())


@pytest.mark.parametrize("key", _one_per_target_and_track())
def test_the_tables_mistake_behaves_as_the_catalogues(key):
    """Built from its source, a mistake gives the diagnosis the very numbers the catalogue's
    function gives (same probes, same random streams)."""
    entry = MISTAKES[key]
    prober = PROBERS.get(entry.target)
    ctx = Context(entry.target, 0, dict(entry.fixed or {}))
    with _quietly():
        ours, theirs = prober.signature(catalogued(key), ctx), prober.signature(entry.graded, ctx)
    assert repr(ours) == repr(theirs)
