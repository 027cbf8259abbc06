"""What one full-course submission costs on the full path and on the fast path, side by side.

    python3 tools/course.py bench fast [--assignments 00-setup,01-variance,…]

In a temporary course root, the solution of every assignment is submitted as one student and
graded twice by the same jobs (``initgrader.job``): once as separate full autogrades (a fresh
confined kernel and an nbgrader process per notebook) and once as one fast-path run
(``initgrader.fast``: one nbgrader process, kernels forked from one parent that imported the
libraries once, cells tagged ``experiment`` in ``solutions/`` skipped). It prints wall seconds
per notebook, the totals with their CPU seconds (``bench_isolation.busy_seconds``: a cgroup of
the bench's own when it can make one, else the machine's busy time) and whether both ways
gave the same points per cell; then where the fast path's CPU went, per notebook and part
(the issue's budget rows), from what its runner and the student's parent report. Compare
the columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench_isolation import busy_seconds, cpu_measure  # noqa: E402
from tools.classroom import CourseRoot  # noqa: E402

STUDENT = "solver"


def cell_scores(outcome, assignment: str, folder: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    copy = folder / f"scores-{assignment}-{time.monotonic_ns()}.db"
    copy.write_bytes(outcome.gradebook)
    with Gradebook(f"sqlite:///{copy}") as gb:
        submission = gb.find_submission(assignment, STUDENT)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


def main(argv: list[str] | None = None) -> int:
    from initgrader import fast, job
    from initgrader.experiments import experiment_cells
    from tools import grade

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assignments", default="", help="comma-separated (default: every assignment in solutions/)")
    args = p.parse_args(argv)
    root_dir = Path(__file__).resolve().parent.parent
    assignments = [a for a in args.assignments.split(",") if a] or \
        sorted(d.name for d in (root_dir / "solutions").iterdir() if d.is_dir() and d.name[:2].isdigit())
    with tempfile.TemporaryDirectory(prefix="bench-fast-") as tmp:
        folder = Path(tmp)
        root = CourseRoot.create(folder, assignments)
        experiments = {}
        for a in assignments:
            root.submit_class(a, {STUDENT: {g: "solution" for g in root.answer_ids(a)}})
            experiments[a] = {p.stem: experiment_cells(p) for p in sorted((root.path / "solutions" / a).glob("*.ipynb"))}
        jobs = [grade.JobMaker(grade.Course.load(root.path, a), folder, timeout=120, sandbox=True, limit=1800,
                               budget=600.0).for_student(STUDENT) for a in assignments]

        busy, began = busy_seconds(), time.perf_counter()
        full = [job.run(j, folder) for j in jobs]
        full_wall, full_cpu = time.perf_counter() - began, busy_seconds() - busy

        busy, began = busy_seconds(), time.perf_counter()
        quick = fast.run_student(jobs, experiments, scratch=folder)
        fast_wall, fast_cpu = time.perf_counter() - began, busy_seconds() - busy

        print("| notebook | full path, wall s | fast path, wall s | experiment cells skipped | same points per cell |")
        print("|---|---|---|---|---|")
        same_all = True
        for a, f, q in zip(assignments, full, quick):
            same = f.code == 0 and q.code == 0 and cell_scores(f, a, folder) == cell_scores(q, a, folder)
            same_all &= same
            skipped = sum(line.get("skipped", 0) for line in q.report)
            print(f"| {a} | {f.seconds:.1f} | {q.seconds:.1f} | {skipped} | {'yes' if same else 'NO'} |")
        print(f"| **whole course** | {full_wall:.1f} (CPU {full_cpu:.1f}) | {fast_wall:.1f} "
              f"(CPU {fast_cpu:.1f}) | | {'yes' if same_all else 'NO'} |")
        print(f"\nCPU: {cpu_measure()}. fast/full: wall {fast_wall / full_wall:.2f}, CPU {fast_cpu / full_cpu:.2f}; "
              "the fast path's first notebook includes starting the student's parent (its imports).\n")
        print("\n".join(budget_rows(assignments, quick, fast_cpu)))
        return 0 if same_all else 1


PARTS = ("the graded cells in the grader (checks, proxy)", "the rest of the execute step (nbclient, staging)",
         "nbgrader's bookkeeping (sanitize, gradebook, save)", "the kernel (answers, other cells, the proxy's half)",
         "the parent's imports (NumPy/SciPy at start, frameworks on first need)")


def budget_rows(assignments: list[str], outcomes, total_cpu: float) -> list[str]:
    """Where the fast path's CPU went, per notebook and part, from what the runner and the
    parent report (``Outcome.cpu_s`` and the execute report's ``cpu_s``)."""
    rows = [f"| notebook | {' | '.join(PARTS)} |", "|---|" + "---|" * len(PARTS)]
    sums = [0.0] * len(PARTS)
    for assignment, outcome in zip(assignments, outcomes):
        spent = [line.get("cpu_s", {}) for line in outcome.report]
        grader = sum(c.get("grader", 0.0) for c in spent)
        checks = sum(c.get("checks", 0.0) for c in spent)
        parts = [checks, grader - checks, (outcome.cpu_s.get("autograde") or 0.0) - grader,
                 sum(c.get("kernel", 0.0) for c in spent), sum(c.get("parent", 0.0) for c in spent)]
        sums = [a + b for a, b in zip(sums, parts)]
        rows.append(f"| {assignment} | " + " | ".join(f"{v:.1f}" for v in parts) + " |")
    rows.append("| **whole course** | " + " | ".join(f"**{v:.1f}**" for v in sums) + " |")
    start = (outcomes[0].cpu_s.get("runner_start") or 0.0) if outcomes else 0.0
    rows.append(f"\nPlus the runner's start (importing nbgrader and the grader, once per student): {start:.1f} CPU-s. "
                f"Parts: {sum(sums) + start:.1f} of {total_cpu:.1f} CPU-s measured; the rest is the job's staging "
                "and collection in the head, the sandbox's start and what the parent's reports miss (a kernel the "
                "parent had to kill before reaping counts).")
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
