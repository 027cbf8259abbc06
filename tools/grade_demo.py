"""Grade demo: a simulated class graded end to end by ``tools/grade.py``::

    python3 tools/course.py grade-demo                 # or: make grade-demo
    python3 tools/course.py grade-demo --dir /tmp/demo --assignment 03-xavier --workers 2

Builds a temporary course root (``tools/classroom.py``: ``generate_assignment`` from
``solutions/``), submits a class — the solution, a blank notebook, catalogued mistakes
(``initkit.mistakes``), and the submissions that must never stop a class run: a notebook
that is not JSON, one whose answer fails at import, one that hangs, one with a graded cell
deleted, one with a locked test cell edited, one that floods stderr — grades it with
``tools/grade.py`` (a low cell time limit, so the hang costs seconds, not two minutes),
prints the class summary, then checks every student's per-cell scores against the
catalogue (``CourseRoot.expected_scores``) and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.classroom import SIMULATED_CLASSES, CourseRoot, catalogue_answers  # noqa: E402
from tools.grade import Course, GradeError, grade_class  # noqa: E402

# Per assignment: student → {answer cell: "solution" | catalogue key}; unanswered cells stay blank.
_RELU_SOLVED = {"01-relu_moments": "solution", "01-preactivation_variance": "solution"}
MISTAKE_STUDENTS = {
    "01-variance": {
        "solver": {"01-var_of_product": "solution", **_RELU_SOLVED},
        "blank": {},
        "no-mean-terms": {"01-var_of_product": "var_of_product/product_of_variances", **_RELU_SOLVED},
        "means-crossed": {"01-var_of_product": "var_of_product/means_crossed", **_RELU_SOLVED},
        "sign-lost": {"01-var_of_product": "var_of_product/sign_lost", **_RELU_SOLVED},
    },
    # the pipeline's 03 class but one (tools/classroom.py)
    "03-xavier": {name: answers for name, answers in SIMULATED_CLASSES["03-xavier"].items()
                  if name != "layout-globalrng-variance"},
}
# The troublemakers: what each does to the released notebook (see build_class).
TROUBLE = ("broken-json", "import-error", "hangs", "deleted-cell", "edited-test", "stderr-flood")

HANG = "while True:  # never returns: nbgrader interrupts the cell at Execute.timeout\n    pass\n"
IMPORT_ERROR = "from initkit.answers import *  # no such module: the cell fails at import\n"
FLOOD = ("import sys\n\nfor step in range(20_000):  # debugging output left in\n"
         "    print(f'step {step}: still here', file=sys.stderr)\n\n")


def _edit(root: CourseRoot, student: str, assignment: str, change) -> None:
    """Apply ``change(cells) -> cells`` to a submitted notebook."""
    for path in sorted((root.path / "submitted" / student / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = change(nb.cells)
        nbformat.write(nb, path)


def build_class(root: CourseRoot, assignment: str) -> dict[str, dict[str, float]]:
    """Submit the demo class into ``root``; return student → expected score per graded cell."""
    if assignment not in MISTAKE_STUDENTS:
        raise GradeError(f"no demo class for {assignment!r}: the demo has {', '.join(MISTAKE_STUDENTS)}")
    expected = root.submit_class(assignment, MISTAKE_STUDENTS[assignment])
    first = root.answer_ids(assignment)[0]
    solved = {answer: "solution" for answer in root.answer_ids(assignment)}
    full, nothing = root.expected_scores(assignment, solved), root.expected_scores(assignment, {})
    victim = [g for g in full if g.startswith(first + "-")][-1]  # the first exercise's last graded cell

    # not JSON (a truncated upload)
    folder = root.path / "submitted" / "broken-json" / assignment
    folder.mkdir(parents=True)
    for path in root.released(assignment):
        (folder / path.name).write_text(path.read_text(encoding="utf-8")[:500], encoding="utf-8")
    expected["broken-json"] = nothing
    # the first answer fails at import / never returns; the other exercises are left blank
    root.submit("import-error", assignment, {first: IMPORT_ERROR})
    expected["import-error"] = nothing
    root.submit("hangs", assignment, {first: HANG})
    expected["hangs"] = nothing
    # the solution, with a graded cell deleted: the grader rebuilds the notebook from the
    # release (initgrader.rebuild), so the cell is back and graded — full marks
    root.submit_entries("deleted-cell", assignment, solved)
    _edit(root, "deleted-cell", assignment,
          lambda cells: [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") != victim])
    expected["deleted-cell"] = dict(full)
    # a catalogued mistake whose failing test cell was "fixed" to print ok: nbgrader restores it
    mistake_name = next(n for n, spec in MISTAKE_STUDENTS[assignment].items() if spec.get(first, "solution") != "solution")
    answers = catalogue_answers(MISTAKE_STUDENTS[assignment][mistake_name])
    root.submit_entries("edited-test", assignment, answers)
    failed = next(g for g, score in expected[mistake_name].items() if score < full[g])  # a cell it fails

    def cheat(cells):
        for cell in cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == failed:
                cell.source = "print('all good')"
        return cells

    _edit(root, "edited-test", assignment, cheat)
    expected["edited-test"] = root.expected_scores(assignment, answers)
    # the solution with 20,000 lines of stderr before it
    root.submit("stderr-flood", assignment,
                {answer: (FLOOD if answer == first else "") + root.solution_answer(assignment, answer) for answer in solved})
    expected["stderr-flood"] = full
    return expected


def compare(run, expected: dict[str, dict[str, float]]) -> list[str]:
    """Students whose per-cell scores differ from the catalogue's expectation."""
    differences = []
    for student, cells in expected.items():
        got = {name: score for name, (score, _) in run.results[student].cells.items()}
        if got != cells:
            wrong = sorted(name for name in cells if got.get(name) != cells[name])
            differences.append(f"{student}: " + ", ".join(f"{n} scored {got.get(n)} (expected {cells[n]:g})" for n in wrong))
    return differences


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 tools/course.py grade-demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--assignment", default="01-variance", choices=sorted(MISTAKE_STUDENTS))
    p.add_argument("--dir", help="build the course root here and keep it (default: a temporary folder, removed)")
    p.add_argument("--workers", type=int, default=None, help="parallel autograde processes (default: the CPU count)")
    p.add_argument("--timeout", type=int, default=20, help="Execute.timeout per cell for the demo, in s (default 20)")
    args = p.parse_args(argv)
    base = Path(args.dir).resolve() if args.dir else Path(tempfile.mkdtemp(prefix="initcourse-grade-demo-"))
    if args.dir and (base / "course-root").exists():
        print(f"[grade-demo] error: {base / 'course-root'} exists; choose an empty --dir", file=sys.stderr)
        return 2
    try:
        print(f"[grade-demo] building a simulated class of {args.assignment} in {base / 'course-root'} …", flush=True)
        root = CourseRoot.create(base, [args.assignment])
        expected = build_class(root, args.assignment)
        print(f"[grade-demo] {len(expected)} submissions: {', '.join(expected)}", flush=True)
        run = grade_class(Course.load(root.path, args.assignment), workers=args.workers, timeout=args.timeout)
        print(run.summary)
        differences = compare(run, expected)
        for line in differences:
            print(f"[grade-demo] MISMATCH {line}")
        if not differences:
            print(f"[grade-demo] every student's per-cell scores match the catalogue's expectation ({len(expected)} of {len(expected)})")
        if not args.dir:
            print("[grade-demo] (the temporary course root is removed; pass --dir PATH to keep its feedback/ and grades.csv)")
        return 1 if differences else 0
    except GradeError as error:
        print(f"[grade-demo] error: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
