"""Class grading in one command (tools/grade.py): input errors, the pieces that keep a class
run going (killing a stuck process, reading broken submissions), the summary, and the grade
demo's class graded end to end by real nbgrader with two workers on an SQLite gradebook
(per-worker copies merged into the real one). Expected scores come from the catalogue."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from pipeline import CourseRoot  # noqa: F401  (puts the repo on sys.path)
from tools.grade import (ClassRun, Course, GradeError, Result, grade_class, inspect_submission, run_limited,
                         summary)

REPO = Path(__file__).resolve().parent.parent
VARIANCE = "01-variance"


def course_copy(tmp_path: Path, assignment: str = VARIANCE) -> Course:
    """A course root with the repo's config, solutions and release of one assignment (no nbgrader run)."""
    root = tmp_path / "root"
    shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
    shutil.copytree(REPO / "course" / assignment, root / "course" / assignment)
    shutil.copy(REPO / "nbgrader_config.py", root)
    return Course.load(root, assignment)


# --------------------------------------------------------------------------- input errors

def test_an_unknown_assignment_names_the_ones_that_exist():
    with pytest.raises(GradeError) as error:
        Course.load(REPO, "03-xavir")
    assert "unknown assignment '03-xavir'" in str(error.value)
    assert "01-variance" in str(error.value) and "03-xavier" in str(error.value)


def test_a_folder_without_nbgrader_config_is_refused(tmp_path):
    with pytest.raises(GradeError, match="not an nbgrader course root"):
        Course.load(tmp_path, VARIANCE)


def test_no_submissions_and_unknown_students_are_clear_errors(tmp_path):
    course = course_copy(tmp_path)
    with pytest.raises(GradeError, match=r"no submissions of 01-variance: submitted/<student>/01-variance/"):
        course.students()
    (course.root / "submitted" / "ada" / VARIANCE).mkdir(parents=True)
    assert course.students() == ["ada"]
    with pytest.raises(GradeError, match="no submission of 01-variance for bob"):
        course.students(["bob"])


def test_workers_and_timeout_must_be_positive(tmp_path):
    course = course_copy(tmp_path)
    (course.root / "submitted" / "ada" / VARIANCE).mkdir(parents=True)
    with pytest.raises(GradeError, match="--workers must be at least 1, got 0"):
        grade_class(course, workers=0)
    with pytest.raises(GradeError, match="--timeout must be at least 1 second, got 0"):
        grade_class(course, workers=1, timeout=0)


# --------------------------------------------------------------------------- robustness pieces

def test_a_stuck_process_and_the_kernel_it_started_are_killed(tmp_path):
    """A kernel runs in its own session (jupyter_client), so killing the process group would
    miss it: run_limited kills the whole tree."""
    pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(600)
    """)
    code = run_limited([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ), limit=3,
                       log=tmp_path / "log")
    assert code is None
    psutil = pytest.importorskip("psutil")
    child = int(pid_file.read_text())
    for _ in range(50):
        if not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the child process {child} survived")


def test_a_job_process_dies_with_the_worker_that_started_it(tmp_path):
    """A worker SIGKILLed mid-job (Dask restarting it, the OOM killer) must not leave its
    autograde running as an orphan: run_limited's command dies with its parent."""
    psutil = pytest.importorskip("psutil")
    pid_file = tmp_path / "job.pid"
    worker = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from initgrader.job import run_limited
        job = "import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
        run_limited([sys.executable, "-c", job], cwd=Path({str(tmp_path)!r}), env=dict(os.environ), limit=600,
                    log=Path({str(tmp_path / 'log')!r}))
    """)
    parent = subprocess.Popen([sys.executable, "-c", worker], cwd=Path(__file__).resolve().parent.parent)
    try:
        for _ in range(300):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        else:
            pytest.fail("the job process did not start")
        job_pid = int(pid_file.read_text())
        assert psutil.Process(job_pid).ppid() == parent.pid  # the job itself, exec'd in place of the wrapper
        parent.kill()
        parent.wait()
        for _ in range(50):
            if not psutil.pid_exists(job_pid) or psutil.Process(job_pid).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.1)
        else:
            psutil.Process(job_pid).kill()
            pytest.fail(f"the job process {job_pid} outlived its killed worker")
    finally:
        parent.kill()


def test_a_process_within_its_limit_returns_its_status(tmp_path):
    code = run_limited([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], cwd=tmp_path,
                       env=dict(os.environ), limit=60, log=tmp_path / "log")
    assert code == 3 and "hi" in (tmp_path / "log").read_text()


def test_inspection_names_unreadable_deleted_edited_and_unanswered_cells(tmp_path):
    course = course_copy(tmp_path)
    released = json.loads((course.root / "course" / VARIANCE / f"{VARIANCE}.ipynb").read_text(encoding="utf-8"))

    def submit(student, change=None, text=None):
        folder = course.submitted(student)
        folder.mkdir(parents=True)
        nb = json.loads(json.dumps(released))
        if change:
            change(nb["cells"])
        (folder / f"{VARIANCE}.ipynb").write_text(text if text is not None else json.dumps(nb), encoding="utf-8")

    def grade_id(cell):
        return cell["metadata"].get("nbgrader", {}).get("grade_id")

    def delete(cells):
        cells[:] = [c for c in cells if grade_id(c) != "01-var_of_product-values"]

    def edit(cells):
        for c in cells:
            if grade_id(c) == "01-var_of_product-interface":
                c["source"] = "pass"
            if grade_id(c) == "01-var_of_product":
                c["source"] = "def var_of_product(*args):\n    return 1.0\n"

    submit("blank")
    submit("truncated", text='{"cells": [')
    submit("deleted", delete)
    submit("edited", edit)
    assert inspect_submission(course, "blank") == ["not answered: 01-var_of_product, 01-relu_moments, 01-preactivation_variance"]
    assert inspect_submission(course, "truncated")[0].startswith(f"{VARIANCE}.ipynb unreadable (NotJSONError")
    assert inspect_submission(course, "deleted") == ["not answered: 01-var_of_product, 01-relu_moments, 01-preactivation_variance",
                                                     "graded cells deleted: 01-var_of_product-values"]
    assert inspect_submission(course, "edited") == [
        "not answered: 01-relu_moments, 01-preactivation_variance",
        "locked cells edited (nbgrader restored them): 01-var_of_product-interface"]
    assert inspect_submission(course, "nobody") == [f"{VARIANCE}.ipynb not submitted"]


def test_the_summary_counts_the_distribution_and_ranks_failed_cells(tmp_path):
    course = Course(root=tmp_path, assignment=VARIANCE, db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    cells = {"a": 1.0, "b": 2.0}

    def result(name, a, b, problems=()):
        return Result(name, score=a + b, max_score=3.0, problems=list(problems),
                      cells={"a": (a, cells["a"]), "b": (b, cells["b"])})

    results = {r.student: r for r in [result("s1", 1, 2), result("s2", 1, 0), result("s3", 0, 0, ["hangs"]),
                                       result("s4", 0, 2)]}
    run = ClassRun(course, 2, 60.0, results, tmp_path / "grades.csv", tmp_path / "summary.txt",
                   {"autograde": 30.0})
    text = summary(run)
    assert "4 submission(s) graded in 60 s with 2 worker(s): 4.0 overall, 8.0 per minute while autograding" in text
    assert "mean 1.5 / 3 (50%), median 1.5, min 0, max 3" in text
    lines = text.splitlines()
    assert [line.split()[-1] for line in lines if line.strip().startswith(("100%", "50–74%", "25–49%", "0%"))] \
        == ["1", "1", "1", "1"]
    failed = lines[lines.index("most-failed graded cells:") + 1:][:2]
    assert failed[0].split()[0] == "a" and "failed by 2 of 4 (50%)" in failed[0]  # ties: by name
    assert failed[1].split()[0] == "b" and "failed by 2 of 4 (50%)" in failed[1]
    assert "s3" in text and "hangs" in text
    few = summary(run, student_rows=2)  # a large class: only the students with problems get a row
    rows = [line.split()[0] for line in few.splitlines() if line.startswith("s") and not line.startswith("student")]
    assert rows == ["s3"] and "(3 more without problems" in few


# --------------------------------------------------------------------------- the time budget

class FakeJobs:
    """What solution_seconds needs of a JobMaker, with job.run replaced by ``fake_run``."""

    def __init__(self, scratch: Path, sandbox: bool = True):
        self.scratch, self.sandbox, self.asked = scratch, sandbox, []

    def for_student(self, student, folder=None, budget=None):
        self.asked.append((student, folder, budget))
        return student


def fake_outcome(report: list[dict], code: int = 0):
    from initgrader.job import Outcome

    return Outcome("solution-timing", code, 1.0, b"", {}, b"", report)


def test_the_solutions_time_is_measured_once_per_version_of_the_notebooks(tmp_path, monkeypatch):
    from tools import grade

    course = course_copy(tmp_path)
    runs = []

    def fake_run(job_, scratch=None):
        runs.append(job_)
        return fake_outcome([{"notebook": VARIANCE, "student_s": 2.5 * len(runs), "stopped": ""}])

    monkeypatch.setattr(grade.job, "run", fake_run)
    jobs = FakeJobs(tmp_path)
    assert grade.solution_seconds(course, jobs) == 2.5 and runs == [grade.TIMING_STUDENT]
    assert jobs.asked == [(grade.TIMING_STUDENT, course.root / "solutions" / VARIANCE, 0.0)]  # no budget of its own
    assert grade.solution_seconds(course, jobs) == 2.5 and len(runs) == 1  # cached: nothing changed
    notebook = course.root / "solutions" / VARIANCE / f"{VARIANCE}.ipynb"
    notebook.write_text(notebook.read_text().replace("variance", "Variance", 1))
    assert grade.solution_seconds(course, jobs) == 5.0 and len(runs) == 2  # the solution changed: measured again
    assert grade.solution_seconds(course, FakeJobs(tmp_path, sandbox=False)) == 7.5  # another way of grading
    assert grade.time_budget(5.0) == 300.0 and grade.time_budget(20.0) == 400.0  # max(300, 20 × solution)


def test_a_solution_that_does_not_finish_under_the_grader_stops_the_run(tmp_path, monkeypatch):
    from tools import grade

    course = course_copy(tmp_path)
    monkeypatch.setattr(grade.job, "run", lambda job_, scratch=None: fake_outcome(
        [{"notebook": VARIANCE, "student_s": 9.0, "stopped": "the kernel died"}]))
    with pytest.raises(GradeError, match="did not run to the end under the grader.*the kernel died"):
        grade.solution_seconds(course, FakeJobs(tmp_path))


# --------------------------------------------------------------------------- the demo class, for real

@pytest.fixture(scope="module")
def graded_demo(tmp_path_factory):
    pytest.importorskip("nbgrader")
    from tools.grade_demo import build_class

    root = CourseRoot.create(tmp_path_factory.mktemp("grade-demo"), [VARIANCE])
    expected = build_class(root, VARIANCE)
    run = grade_class(Course.load(root.path, VARIANCE), workers=2, timeout=20, progress=False)
    return root, run, expected


@pytest.mark.slow
def test_every_student_scores_what_the_catalogue_predicts(graded_demo):
    from tools.grade_demo import compare

    root, run, expected = graded_demo
    assert run.workers == 2 and set(run.results) == set(expected)
    assert compare(run, expected) == []
    for student, cells in expected.items():  # read back from the real gradebook, not the run's copy
        assert root.cell_scores(student, VARIANCE) == cells, student


@pytest.mark.slow
def test_the_budget_is_a_multiple_of_the_solutions_own_time_measured_first(graded_demo):
    root, run, _ = graded_demo
    assert run.solution_s is not None and 0 < run.solution_s < 60
    assert run.budget == max(300.0, 20 * run.solution_s)
    assert f"time budget per notebook: {run.budget:.0f} s" in run.summary
    cached = json.loads((root.path / "grading" / VARIANCE / "solution-time.json").read_text())
    assert cached["seconds"] == run.solution_s
    for student in run.results:  # every notebook's report: its time, under the budget
        lines = [json.loads(x) for x in (root.path / "grading" / VARIANCE / "logs" / f"{student}.jsonl")
                 .read_text().splitlines()] if student != "broken-json" else []
        assert all(line["budget_s"] == run.budget for line in lines), student


@pytest.mark.slow
def test_nothing_is_left_for_manual_grading_and_grades_csv_has_every_student(graded_demo):
    from nbgrader.api import Gradebook

    root, run, expected = graded_demo
    with Gradebook(f"sqlite:///{root.path / 'gradebook.db'}") as gb:
        assert gb.find_assignment(VARIANCE).num_submissions == len(expected)
        waiting = [(s.student.id, g.name) for s in gb.find_assignment(VARIANCE).submissions
                   for nb in s.notebooks for g in nb.grades if g.needs_manual_grade]
    assert waiting == []
    with open(run.grades_csv, newline="") as f:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == VARIANCE}
    assert rows == {student: sum(cells.values()) for student, cells in expected.items()}


@pytest.mark.slow
def test_every_troublemaker_is_graded_and_reported(graded_demo):
    _, run, _ = graded_demo
    results = run.results
    assert {s: r.status for s, r in results.items() if r.status != "graded"} == {"broken-json": "failed"}
    assert "unreadable (NotJSONError" in "; ".join(results["broken-json"].problems)
    assert "all cells zeroed" in results["broken-json"].problems
    assert any("interrupted at the cell time limit (20 s, or what was left of the time budget): 01-var_of_product"
               in p for p in results["hangs"].problems)
    assert any("ModuleNotFoundError" in p for p in results["import-error"].problems)
    assert "graded cells deleted: 01-var_of_product-values" in results["deleted-cell"].problems
    assert results["deleted-cell"].zeroed == []  # restored from the release and graded (initgrader.rebuild)
    assert any(p.startswith("locked cells edited") for p in results["edited-test"].problems)
    assert any(p.startswith("stderr flood") for p in results["stderr-flood"].problems)
    assert results["blank"].problems == ["not answered: 01-var_of_product, 01-relu_moments, 01-preactivation_variance"]
    for student in ("solver", "no-mean-terms", "means-crossed", "sign-lost"):
        assert results[student].problems == [], student


@pytest.mark.slow
def test_feedback_logs_and_the_summary_are_written(graded_demo):
    root, run, expected = graded_demo
    for student in expected:
        html = list((root.path / "feedback" / student / VARIANCE).glob("*.html"))
        assert bool(html) == (student != "broken-json"), student
        assert (root.path / "grading" / VARIANCE / "logs" / f"{student}.log").is_file()
    assert run.report.read_text(encoding="utf-8").strip() == run.summary.strip()
    most_failed = run.summary.splitlines()[run.summary.splitlines().index("most-failed graded cells:") + 1]
    losses = {cell: sum(cells[cell] < max(c[cell] for c in expected.values()) for cells in expected.values())
              for cell in next(iter(expected.values()))}
    top = min(losses, key=lambda cell: (-losses[cell], cell))  # the summary breaks ties by name
    assert most_failed.split()[0] == top and f"failed by {losses[top]} of {len(expected)}" in most_failed


def test_the_course_command_passes_grade_arguments_through():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "course.py"), "grade", "--skip-setup", "03-xavir"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown assignment '03-xavir'" in done.stderr and "03-xavier" in done.stderr


@pytest.mark.parametrize("argv, path, said", [
    (["01-variance", "03-xavier"], "fast", ""),
    (["01-variance", "--fast", "--dask", "local:2"], "fast", ""),
    (["01-variance", "03-xavier", "--full"], "full", ""),
    (["01-variance", "--no-sandbox"], "full", "--no-sandbox: grading on the full path"),
    (["01-variance", "--prepare", "jobs"], "full", "--prepare: grading on the full path"),
    (["01-variance", "--merge", "jobs"], "full", "--merge: grading on the full path"),
])
def test_grade_runs_the_fast_path_unless_told_or_an_option_needs_the_full_one(argv, path, said, monkeypatch, capsys):
    import tools.grade as grade

    called = []
    dummy = ClassRun(None, 1, 0.0, {}, Path("grades.csv"), Path("summary.txt"), {}, summary="done")
    monkeypatch.setattr(grade, "grade_fast", lambda root, assignments, **kw: called.append(("fast", assignments, kw))
                        or [dummy])
    monkeypatch.setattr(grade, "grade_class", lambda course, **kw: called.append(("full", course, kw)) or dummy)
    monkeypatch.setattr(grade.Course, "load", staticmethod(lambda root, assignment, db=None: assignment))
    assert grade.main(argv) == 0
    assert {way for way, _, _ in called} == {path}
    if path == "fast":
        assert called[0][1] == [a for a in argv if a[:2].isdigit()]
        assert called[0][2]["dask"] == ("local:2" if "--dask" in argv else None)
    else:
        assert [course for _, course, _ in called] == [a for a in argv if a[:2].isdigit()]
        assert called[0][2]["sandbox"] == ("--no-sandbox" not in argv)
    assert said in capsys.readouterr().err


def test_fast_and_full_together_or_fast_with_an_option_of_the_full_path_are_refused(capsys):
    import tools.grade as grade

    with pytest.raises(SystemExit):
        grade.main(["01-variance", "--fast", "--full"])
    assert "not allowed with argument" in capsys.readouterr().err
    assert grade.main(["01-variance", "--fast", "--no-sandbox"]) == 2
    err = capsys.readouterr().err
    assert "cannot be combined with --no-sandbox" in err and "leave out --fast" in err


@pytest.mark.parametrize("source, expected", [
    ("import torch\ndef xavier_uniform_(t, gain=1.0, generator=None):\n    return torch.nn.init.xavier_uniform_(t, gain)\n",
     ["torch.nn.init.xavier_uniform_"]),
    ("from torch.nn import init\nfrom torch import nn\nf = nn.init.zeros_\n", ["torch.nn.init", "nn.init.zeros_"]),
    ("import keras\nclass V(keras.initializers.Initializer):\n    def __call__(self, shape, dtype=None):\n"
     "        return keras.initializers.HeNormal()(shape)\n", ["keras.initializers.HeNormal"]),
    ("from initkit import var_of_product\n", ["initkit.var_of_product"]),
    ("import keras\nclass V(keras.initializers.Initializer):\n    pass\n", []),
    ("import numpy as np\ndef var_of_product(a, b, c, d):\n    return b * d + b * c**2 + d * a**2\n", []),
    ("def broken(:\n", []),
])
def test_the_honour_code_screen_names_library_initializers_in_answers(source, expected):
    from tools.grade import library_uses

    assert library_uses(source) == expected


def test_a_submission_is_refused_for_links_pipes_and_sizes_before_it_is_read(tmp_path):
    from tools.grade import MAX_CELLS, MAX_FILES, refusals

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "01-variance.ipynb").write_text("{}")
    assert refusals(folder) == []
    (folder / "extra.txt").write_text("x")
    os.link(folder / "extra.txt", tmp_path / "elsewhere.txt")  # a hard link out of the folder
    os.mkfifo(folder / "pipe")
    (folder / "link.ipynb").symlink_to(folder / "01-variance.ipynb")
    (folder / "big.ipynb").write_bytes(b"")
    os.truncate(folder / "big.ipynb", 17 << 20)
    (folder / "cells.ipynb").write_text('{"cell_type": 1}' * (MAX_CELLS + 1))
    for k in range(MAX_FILES):
        (folder / f"f{k:03d}.txt").write_text("")
    found = refusals(folder)
    assert "extra.txt is a hard link to another file" in found
    assert "pipe is not a regular file" in found
    assert "link.ipynb is a symbolic link" in found
    assert "big.ipynb is 17 MiB, over the 16 MiB limit for a notebook" in found
    assert f"cells.ipynb has more than {MAX_CELLS:,} cells" in found
    assert f"{MAX_FILES + 4} files, over the limit of {MAX_FILES}" in found  # links and pipes not counted
    assert not any("01-variance.ipynb" in line for line in found)


def test_jobs_carry_hidden_seeds_derived_by_the_head_and_never_the_secret(tmp_path):
    from initgrader import hidden_seeds
    from tools.grade import JobMaker

    root = CourseRoot.create(tmp_path, [VARIANCE])
    secret = b"a course secret of at least 16 bytes"
    (tmp_path / "secret").write_bytes(secret)
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.IsolatedExecute.secret_file = {str(tmp_path / 'secret')!r}\n")
    root.submit("alice", VARIANCE, {})
    root.submit("bob", VARIANCE, {})
    course = Course.load(root.path, VARIANCE)
    root.nbgrader("generate_assignment", VARIANCE, "--force", f"--CourseDirectory.release_directory={tmp_path / 'r'}")
    jobs = JobMaker(course, tmp_path, timeout=30, sandbox=True, limit=600)
    alice, bob = jobs.for_student("alice"), jobs.for_student("bob")
    assert set(alice.seeds) >= {"01-var_of_product-values/1", "01-var_of_product-values/2"}
    assert alice.seeds["01-var_of_product-values/1"] == hidden_seeds.derived_seed(secret, "alice", "01-var_of_product-values", 1)
    assert alice.seeds != bob.seeds and set(alice.seeds) == set(bob.seeds)
    for part in (alice.config, alice.gradebook, *alice.release.values(), *alice.submission.values()):
        assert secret not in part
    source = jobs.tests["01-var_of_product-values"]
    graded = hidden_seeds.with_hidden_seeds(source, None, "alice", "01-var_of_product-values", alice.seeds)
    assert f"seed={alice.seeds['01-var_of_product-values/1']}" in graded
    assert "check_var_of_product(var_of_product, aspect='values')\n" in graded  # the visible check stays
    assert hidden_seeds.with_hidden_seeds(source, None, "alice", "01-var_of_product-values", {}) == source


@pytest.mark.slow
def test_a_rerun_grades_only_what_changed_since_the_last_grade(tmp_path, monkeypatch):
    from tools import grade

    root = CourseRoot.create(tmp_path, [VARIANCE])
    right = root.solution_answer(VARIANCE, "01-var_of_product")
    root.submit("ann", VARIANCE, {"01-var_of_product": right})
    root.submit("ben", VARIANCE, {})
    ran = []
    real_run = grade.job.run
    monkeypatch.setattr(grade.job, "run", lambda job_, scratch=None: ran.append(job_.student) or real_run(job_, scratch))

    def grade_again(**options):
        ran.clear()
        options.setdefault("budget", 60.0)
        return grade.grade_class(Course.load(root.path, VARIANCE), workers=1, progress=False, **options)

    first = grade_again()
    assert sorted(ran) == ["ann", "ben"] and first.results["ann"].score == 3.0
    again = grade_again()
    assert ran == [] and all(r.reused for r in again.results.values())
    assert again.results["ann"].score == 3.0 and again.results["ben"].score == 0.0  # read back from the gradebook
    assert "2 submission(s) unchanged since their last grade" in again.summary
    root.submit("ben", VARIANCE, {"01-var_of_product": right})  # ben hands in again
    assert grade_again() and ran == ["ben"]
    assert root.cell_scores("ben", VARIANCE) == root.cell_scores("ann", VARIANCE)
    with open(root.path / "nbgrader_config.py", "a") as config:  # the grading configuration changed
        config.write("\n# a comment is a change too\n")
    assert grade_again() and sorted(ran) == ["ann", "ben"]
    assert grade_again(regrade=True) and sorted(ran) == ["ann", "ben"]
    assert grade_again(budget=90.0) is not None and sorted(ran) == ["ann", "ben"]  # another budget


def test_the_grader_starts_nbgrader_without_the_rfc3987_parser_and_notebooks_are_still_validated(tmp_path):
    """initgrader.nbgrader_main refuses jsonschema's optional rfc3987_syntax import (~0.9 CPU-s
    per nbgrader process); nbformat's validation, which never checks the "iri" format, still
    accepts a notebook and rejects a broken one there."""
    script = textwrap.dedent("""
        import sys
        import initgrader.nbgrader_main
        import nbformat
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        nbformat.validate(nb)
        nb.cells[0]["cell_type"] = "not a cell type"
        try:
            nbformat.validate(nb)
            print("broken notebook accepted")
        except nbformat.ValidationError:
            print("broken notebook rejected")
        print("rfc3987_syntax:", sys.modules["rfc3987_syntax"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["broken notebook rejected", "rfc3987_syntax: None"], done.stdout
    course = Course.__new__(Course)
    course.db_url = "sqlite:///gradebook.db"
    assert Course.nbgrader(course, "export")[:3] == [sys.executable, "-m", "initgrader.nbgrader_main"]
