"""Cells the instructor tagged ``experiment`` (placeholder until the tagging branch lands)."""

import hashlib


def source_hash(source: str) -> str:
    """SHA-256 (hex) of a cell's source exactly as stored."""
    return hashlib.sha256(source.encode()).hexdigest()
