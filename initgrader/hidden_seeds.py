"""Hidden seeds that a student cannot know in advance (COURSE.md §9 B).

The released notebooks' hidden tests call the checks with ``seed=1`` and ``seed=2``, and
nbgrader shows hidden tests in feedback: those seeds are public. At grading time the head
process replaces each literal seed ``k ≥ 1`` of a ``check_*`` call with

    seed = HMAC-SHA256(secret, "<student>/<grade_id>/<k>") mod 2³¹

— the same on a re-run, different per student and per cell, and unknowable without the
course secret. The secret lives outside the repository (``IsolatedExecute.secret_file``, or
the file named by ``$INITCOURSE_SECRET_FILE``); it never enters a sandbox or a kernel,
which only ever receive the student's function calls. Without a secret the seeds stay as
written (and the grading report says so). ``seed=0`` — the visible check the student ran
while working — is never changed.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import os
from pathlib import Path


def read_secret(path: str | None) -> bytes | None:
    """The course secret from ``path`` (or ``$INITCOURSE_SECRET_FILE``), or None."""
    path = path or os.environ.get("INITCOURSE_SECRET_FILE")
    if not path:
        return None
    secret = Path(path).expanduser().read_bytes().strip()
    if len(secret) < 16:
        raise ValueError(f"the course secret in {path} must have at least 16 bytes; it has {len(secret)}")
    return secret


def derived_seed(secret: bytes, student: str, grade_id: str, k: int) -> int:
    digest = hmac.new(secret, f"{student}/{grade_id}/{k}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % 2**31


def _hidden_seed_constants(tree: ast.AST):
    """The ``seed=<k ≥ 1>`` keywords of every ``check_*(…)`` call in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "seed" and isinstance(value, ast.Constant) and type(value.value) is int \
                        and value.value >= 1:
                    yield keyword


def seed_table(secret: bytes | None, student: str, tests: dict[str, str]) -> dict[str, int]:
    """Every hidden seed of one student's test cells (grade_id → source), as
    ``{"<grade_id>/<k>": seed}``: what the head hands a grading job instead of the secret."""
    if secret is None:
        return {}
    return {f"{grade_id}/{kw.value.value}": derived_seed(secret, student, grade_id, kw.value.value)
            for grade_id, source in tests.items() for kw in _hidden_seed_constants(ast.parse(source))}


def with_hidden_seeds(source: str, secret: bytes | None, student: str, grade_id: str,
                      table: dict[str, int] | None = None) -> str:
    """``source`` with every ``check_*(…, seed=<k ≥ 1>)`` seed derived from the secret — or,
    given a ``seed_table``, looked up in it (a seed missing from the table stays as written)."""
    if secret is None and not table:
        return source
    tree = ast.parse(source)
    changed = False
    for keyword in _hidden_seed_constants(tree):
        k = keyword.value.value
        seed = table.get(f"{grade_id}/{k}") if table else derived_seed(secret, student, grade_id, k)
        if seed is not None:
            keyword.value = ast.Constant(int(seed))
            changed = True
    return ast.unparse(tree) if changed else source
