"""Before a release: every simulated class graded by full autograde and by the fast path, and
compared cell by cell.

    python3 tools/course.py same-grades [--workers 2] [--assignments 01-variance,03-xavier]

One temporary course root holds the simulated class of every notebook 01–08
(``tools.classroom.SIMULATED_CLASSES``: the solution, a blank, and students whose answers are
catalogued mistakes) with a course secret, so hidden tests run at derived seeds. A copy of it
is graded by ``grade`` per assignment (full autograde) and the other by ``grade --fast`` over
all assignments at once (a student of several classes — "solver", "blank" — is one fast-path
job). Every graded cell must score the same in both gradebooks and what the catalogue says it
must score. Prints one row per assignment and the time of each way; exits 1 on any
difference. ``tests/test_fast_path.py`` does the same in CI on 00, 01 and 03.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the catalogue's framework tracks import TensorFlow here

from tools.classroom import SIMULATED_CLASSES, CourseRoot, catalogue_answers  # noqa: E402

SECRET = "initcourse same-grades secret, fixed"
BUDGET_S = 600.0  # the same budget both ways (a measured one could differ between the copies)


def build(folder: Path, assignments: list[str]) -> tuple[CourseRoot, dict]:
    """The classes in one course root; (student, assignment) → expected points per cell."""
    root = CourseRoot.create(folder, assignments)
    secret = folder / "secret"
    secret.write_text(SECRET)
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.IsolatedExecute.secret_file = {str(secret)!r}\n")
    expected = {}
    for assignment in assignments:
        for student, spec in SIMULATED_CLASSES[assignment].items():
            answers = catalogue_answers(spec)
            root.submit_entries(student, assignment, answers)
            expected[(student, assignment)] = root.expected_scores(assignment, answers)
    return root, expected


def main(argv: list[str] | None = None) -> int:
    from tools import grade

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assignments", default="", help="comma-separated (default: every simulated class, 01–08)")
    p.add_argument("--workers", type=int, default=2, help="workers for each way (default 2)")
    args = p.parse_args(argv)
    assignments = [a for a in args.assignments.split(",") if a] or sorted(SIMULATED_CLASSES)
    unknown = sorted(set(assignments) - set(SIMULATED_CLASSES))
    if unknown:
        print(f"[same-grades] error: no simulated class for {', '.join(unknown)}; there are "
              f"{', '.join(sorted(SIMULATED_CLASSES))}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="same-grades-") as tmp:
        full_root, expected = build(Path(tmp) / "full", assignments)
        fast_root = CourseRoot(Path(tmp) / "fast" / "course-root")
        shutil.copytree(full_root.path, fast_root.path)

        began = time.perf_counter()
        for assignment in assignments:
            grade.grade_class(grade.Course.load(full_root.path, assignment), workers=args.workers, progress=False,
                              budget=BUDGET_S)
        full_s = time.perf_counter() - began
        began = time.perf_counter()
        grade.grade_fast(fast_root.path, assignments, workers=args.workers, progress=False, budget=BUDGET_S)
        fast_s = time.perf_counter() - began

        print("| assignment | students | cells compared | full = fast | = catalogue |")
        print("|---|---|---|---|---|")
        differences = []
        for assignment in assignments:
            students = sorted(s for s, a in expected if a == assignment)
            cells = same = right = 0
            for student in students:
                full = full_root.cell_scores(student, assignment)
                fast = fast_root.cell_scores(student, assignment)
                want = expected[(student, assignment)]
                cells += len(want)
                same += sum(full.get(c) == fast.get(c) for c in want)
                right += sum(fast.get(c) == want[c] for c in want)
                differences += [f"{student} {assignment} {c}: full {full.get(c)}, fast {fast.get(c)}, "
                                f"catalogue {want[c]}" for c in want if not full.get(c) == fast.get(c) == want[c]]
            print(f"| {assignment} | {len(students)} | {cells} | {same}/{cells} | {right}/{cells} |")
        print(f"\nfull autograde {full_s:.0f} s, fast path {fast_s:.0f} s ({args.workers} workers each, "
              "feedback and export included)")
        for line in differences:
            print(f"DIFFERENT: {line}")
        return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
