"""Cells the instructor tagged ``experiment`` (placeholder until the tagging branch lands)."""

import hashlib


def source_hash(source: str) -> str:
    """SHA-256 (hex) of a cell's source exactly as stored."""
    return hashlib.sha256(source.encode()).hexdigest()


def experiment_cells(notebook_path) -> dict[str, str]:
    """cell id → ``source_hash`` of every code cell tagged ``experiment``."""
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    return {cell.id: source_hash(cell.source) for cell in nb.cells
            if cell.cell_type == "code" and "experiment" in cell.metadata.get("tags", [])}
