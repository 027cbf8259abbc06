"""A term through nbgrader's exchange, step by step as docs/instructors.md gives it:
the instructor releases an assignment, a student fetches it, answers, submits; the
instructor collects, grades with `tools/grade.py`, releases the feedback; the student fetches
it. The exchange is a temporary folder (``--Exchange.root``), the student is this machine's
user (nbgrader's exchange names a student by their login), and their answers are the
instructor's solution, so the grade must be full marks and the feedback must show the ✓ line."""

import csv
import getpass
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from pipeline import CourseRoot

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "00-setup"


def student_nbgrader(folder: Path, *args: str) -> str:
    """nbgrader run by the student, in their own folder (no course root there: --course)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--course", "initcourse"], cwd=folder,
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"student's nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stderr


def answer_with_the_solution(root: CourseRoot, notebook: Path) -> None:
    """Fill the student's fetched notebook the way a student would: type into the answer cells."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in root.answer_ids(ASSIGNMENT):
            cell.source = root.solution_answer(ASSIGNMENT, grade_id)
    nbformat.write(nb, notebook)


def test_release_fetch_submit_collect_grade_and_feedback_through_the_exchange(tmp_path):
    root = CourseRoot.create(tmp_path, [ASSIGNMENT])
    exchange = f"--Exchange.root={tmp_path / 'exchange'}"
    student = tmp_path / "student-home"
    student.mkdir()
    login = getpass.getuser()

    root.nbgrader("release_assignment", ASSIGNMENT, exchange)
    student_nbgrader(student, "fetch_assignment", ASSIGNMENT, exchange)
    fetched = student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.read_bytes() == (root.path / "course" / ASSIGNMENT / fetched.name).read_bytes()
    answer_with_the_solution(root, fetched)
    student_nbgrader(student, "submit", ASSIGNMENT, exchange)

    root.nbgrader("collect", ASSIGNMENT, exchange)
    assert (root.path / "submitted" / login / ASSIGNMENT / fetched.name).is_file()
    graded = subprocess.run([sys.executable, str(REPO / "tools" / "grade.py"), ASSIGNMENT, "--root", str(root.path),
                             "--workers", "1", "--no-progress"], capture_output=True, text=True)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    with open(root.path / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(rows[login]["score"]) == float(rows[login]["max_score"]) > 0, rows

    root.nbgrader("release_feedback", ASSIGNMENT, exchange)
    student_nbgrader(student, "fetch_feedback", ASSIGNMENT, exchange)
    feedback = list((student / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(feedback) == 1, feedback
    html = feedback[0].read_text(encoding="utf-8")
    assert "✓ sample_variance: values" in html
    assert f"Score: {float(rows[login]['max_score'])} / {float(rows[login]['max_score'])}" in html


def test_a_submission_linked_to_the_solutions_is_collected_as_a_link_and_refused(tmp_path):
    """nbgrader's own collect would copy the file a link points to (as the instructor): a
    notebook submitted as a link to solutions/ would arrive as the solution and be graded as
    the student's. Ours keeps the link (and drops a pipe); grade refuses the submission."""
    root = CourseRoot.create(tmp_path, [ASSIGNMENT])
    exchange_root = tmp_path / "exchange"
    exchange = f"--Exchange.root={exchange_root}"
    student = tmp_path / "student-home"
    student.mkdir()
    login = getpass.getuser()
    root.nbgrader("release_assignment", ASSIGNMENT, exchange)
    student_nbgrader(student, "fetch_assignment", ASSIGNMENT, exchange)
    student_nbgrader(student, "submit", ASSIGNMENT, exchange)
    [inbound] = (exchange_root / "initcourse" / "inbound").glob(f"{login}+{ASSIGNMENT}+*")
    notebook = inbound / f"{ASSIGNMENT}.ipynb"
    notebook.unlink()
    notebook.symlink_to(root.path / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    os.mkfifo(inbound / "pipe")  # nbgrader's copy would block reading it

    root.nbgrader("collect", ASSIGNMENT, exchange)
    collected = root.path / "submitted" / login / ASSIGNMENT
    assert (collected / notebook.name).is_symlink()
    assert not (collected / "pipe").exists()
    graded = subprocess.run([sys.executable, str(REPO / "tools" / "grade.py"), ASSIGNMENT, "--root", str(root.path),
                             "--workers", "1", "--no-progress"], capture_output=True, text=True)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    assert f"refused: {ASSIGNMENT}.ipynb is a symbolic link" in graded.stdout, graded.stdout
    with open(root.path / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(rows[login]["score"]) == 0.0 < float(rows[login]["max_score"]), rows
