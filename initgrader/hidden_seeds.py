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


def with_hidden_seeds(source: str, secret: bytes | None, student: str, grade_id: str) -> str:
    """``source`` with every ``check_*(…, seed=<k ≥ 1>)`` seed derived from the secret."""
    if secret is None:
        return source
    tree = ast.parse(source)
    changed = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "seed" and isinstance(value, ast.Constant) and type(value.value) is int \
                        and value.value >= 1:
                    keyword.value = ast.Constant(derived_seed(secret, student, grade_id, value.value))
                    changed = True
    return ast.unparse(tree) if changed else source
