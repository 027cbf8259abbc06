"""Benchmark of the course notebooks: per assignment, the import floor (its setup cell
alone), the solution's execution time as nbgrader runs it (NBGRADER_EXECUTION set) and as a
student runs it, and nbgrader autograde of one complete submission; then one submission of
every assignment. Targets (issue 6): each notebook ≤ its import floor + 20 s; one submission of
01–04 ≤ 90 s. Measured, not asserted: machines are shared and noisy.

    python tools/bench_notebooks.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.classroom import CourseRoot  # noqa: E402


def execute_seconds(cells: list, *, quick: bool) -> float:
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    saved = os.environ.get("NBGRADER_EXECUTION")
    if quick:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3").execute()
        return time.perf_counter() - start
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if saved is not None:
            os.environ["NBGRADER_EXECUTION"] = saved


def main(argv: list[str]) -> int:
    assignments = argv or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = CourseRoot.create(Path(tmp), assignments)
        for name in assignments:
            print(f"[bench] {name} …", file=sys.stderr, flush=True)
            cells = [c for path in sorted((ROOT / "solutions" / name).glob("*.ipynb"))
                     for c in nbformat.read(path, as_version=4).cells]
            setup = [c for c in cells if c.cell_type == "code"][:1]
            quick = execute_seconds(cells, quick=True)
            full = execute_seconds(cells, quick=False)
            floor = min(execute_seconds(setup, quick=True) for _ in range(2))  # warm disk cache, as the others
            root.submit("bench", name, {a: root.solution_answer(name, a) for a in root.answer_ids(name)})
            start = time.perf_counter()
            root.autograde(name)
            rows.append((name, floor, quick, full, time.perf_counter() - start))

    print(f"\n{'assignment':24} {'floor s':>8} {'graded run s':>13} {'student run s':>14} {'autograde s':>12} {'≤ floor+20?':>12}")
    for name, floor, quick, full, grade in rows:
        print(f"{name:24} {floor:8.1f} {quick:13.1f} {full:14.1f} {grade:12.1f} {'yes' if quick <= floor + 20 else 'NO':>12}")
    total = sum(r[4] for r in rows)
    print(f"{'one submission, all':24} {'':8} {sum(r[2] for r in rows):13.1f} {sum(r[3] for r in rows):14.1f} {total:12.1f}")
    print("\nfloor: the setup cell alone; graded run: NBGRADER_EXECUTION set (as autograde runs it);"
          "\nautograde: nbgrader autograde of the solution submitted, incl. its own kernel start and gradebook.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
