"""The fast path (``initgrader.fast``, issue 19) grades like full autograde, cell by cell.

One small class of 00-setup, 01-variance and 03-xavier (a framework notebook), in two copies
of one course root: one graded by ``grade_class`` per assignment (full autograde, a fresh
confined kernel per notebook), the other by ``grade_fast`` (one job per student, kernels
forked from one parent per student, two of 01's demonstration cells tagged ``experiment``
and skipped). Every graded cell must score the same in both gradebooks, and what the
catalogue says it must score; grades.csv must be the same.

The class includes students who attack *across* notebooks, which only the fast path makes
possible (their notebooks share a parent process and a sandbox): their 00 answer is right and
tries to reach their 01 kernel; their 01 answer is right only if it sees the leak and wrong
(1 point) otherwise. Each must score what it scores on the full path, where nothing is shared.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.classroom import CourseRoot, catalogue_answers  # noqa: E402

pytestmark = pytest.mark.slow

SETUP, VARIANCE, XAVIER = "00-setup", "01-variance", "03-xavier"
WRONG = "def var_of_product(mean_x, var_x, mean_y, var_y):\n    return var_x * var_y\n"
RIGHT = ("def var_of_product(mean_x, var_x, mean_y, var_y):\n"
         "    return var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2\n")


def _right_if(condition: str) -> str:
    """01's answer: RIGHT when ``condition`` holds in the 01 kernel (the attack worked), else WRONG."""
    return RIGHT + f"if not ({condition}):\n" + textwrap.indent(WRONG, "    ")


#: student → (code run in their 00 answer cell after the right answer, the condition their 01
#: answer tests). Every one must score 00 in full and 1 point of 01's var_of_product.
ACROSS = {
    "leaves_files": ("import os\nfor p in ('/tmp/leak', os.path.expanduser('~/leak')):\n    open(p, 'w').write('x')\n",
                     "__import__('os').path.exists('/tmp/leak') or "
                     "__import__('os').path.exists(__import__('os').path.expanduser('~/leak'))"),
    "leaves_a_daemon": ("import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                        "        for _ in range(3000):\n            open('/tmp/alive', 'w').write('x')\n"
                        "            time.sleep(0.05)\n        os._exit(0)\n    os._exit(0)\ntime.sleep(0.3)\n",
                        "__import__('time').sleep(0.5) or __import__('os').path.exists('/tmp/alive')"),
    "plants_ipython_startup": ("import os\nd = os.path.join(os.environ.get('IPYTHONDIR', os.path.expanduser('~/.ipython')),"
                               " 'profile_default', 'startup')\nos.makedirs(d, exist_ok=True)\n"
                               "open(d + '/00-rig.py', 'w').write('import builtins\\nbuiltins.LEAKED = True\\n')\n",
                               "hasattr(__import__('builtins'), 'LEAKED')"),
    "kills_and_stops_its_parent": ("import os, signal\nfor pid in (1, os.getppid()):\n"
                                   "    for sig in (signal.SIGSTOP, signal.SIGKILL):\n        try:\n"
                                   "            os.kill(pid, sig)\n        except OSError:\n            pass\n",
                                   "False"),
    "keeps_a_module_in_the_parent": ("import sys, types\nsys.modules['leaky'] = types.ModuleType('leaky')\n"
                                     "import numpy\nnumpy.LEAKED = True\n",
                                     "'leaky' in __import__('sys').modules or hasattr(__import__('numpy'), 'LEAKED')"),
}
#: Honest students (catalogue keys, or "solution"), per assignment.
HONEST = {
    "solver": {SETUP: "all", VARIANCE: "all", XAVIER: "all"},
    "blank": {SETUP: {}, VARIANCE: {}, XAVIER: {}},
    "mixed": {SETUP: {"00-sample_variance": "solution"},
              VARIANCE: {"01-var_of_product": "var_of_product/product_of_variances", "01-relu_moments": "solution"},
              XAVIER: {"03-compute_fans": "compute_fans/fans_swapped", "03-xavier_uniform": "solution",
                       "03-xavier_normal": "xavier_normal/xn_truncated"}},
}
#: Two of 01's demonstration cells, tagged experiment in the test's copy if the course has not
#: tagged them already: the fast path skips them (and the course's other tagged cells).
SKIPPED_IDS = ("variance-check", "product-check")
EDITED = "edits_an_experiment"  # changes one of them: it must run
#: A right answer that reads ``x``, which 01's tagged variance-check cell defines: on the fast
#: path nothing of that notebook may be skipped, or the answer would raise NameError.
READS = "reads_an_experiment_name"
READING_ANSWER = RIGHT.replace("mean_x**2\n", "mean_x**2 + 0.0 * (x is None)\n")


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    if subprocess.run(["which", "bwrap"], capture_output=True).returncode != 0:
        pytest.fail("bubblewrap (bwrap) is missing: the fast path runs only confined")
    from tools import grade

    tmp = tmp_path_factory.mktemp("fast-path")
    root = CourseRoot.create(tmp, [SETUP, VARIANCE, XAVIER])
    expected: dict[str, dict[str, dict[str, float]]] = {}
    for student, plan in HONEST.items():
        expected[student] = {}
        for assignment, spec in plan.items():
            spec = {g: "solution" for g in root.answer_ids(assignment)} if spec == "all" else spec
            expected[student][assignment] = root.submit_class(assignment, {student: spec})[student]
    solution_00 = root.solution_answer(SETUP, "00-sample_variance")
    for student, (attack, condition) in ACROSS.items():
        root.submit(student, SETUP, {"00-sample_variance": solution_00 + attack})
        root.submit(student, VARIANCE, {"01-var_of_product": _right_if(condition)})
        expected[student] = {SETUP: root.expected_scores(SETUP, {"00-sample_variance": "solution"}),
                             VARIANCE: _wrong_var_of_product(root)}
    root.submit_class(VARIANCE, {EDITED: {"01-var_of_product": "solution"}})
    _edit_cell(root.path / "submitted" / EDITED / VARIANCE / f"{VARIANCE}.ipynb", SKIPPED_IDS[0])
    expected[EDITED] = {VARIANCE: root.expected_scores(VARIANCE, catalogue_answers({"01-var_of_product": "solution"}))}
    root.submit(READS, VARIANCE, {"01-var_of_product": READING_ANSWER})
    expected[READS] = {VARIANCE: root.expected_scores(VARIANCE, catalogue_answers({"01-var_of_product": "solution"}))}
    _tag_experiments(root.path / "solutions" / VARIANCE / f"{VARIANCE}.ipynb", SKIPPED_IDS)
    from initgrader.experiments import experiment_cells

    tagged = experiment_cells(root.path / "solutions" / VARIANCE / f"{VARIANCE}.ipynb")

    fast_root = CourseRoot(tmp / "fast-root")
    shutil.copytree(root.path, fast_root.path)
    full_runs = [grade.grade_class(grade.Course.load(root.path, a), workers=2, progress=False, budget=300.0)
                 for a in (SETUP, VARIANCE, XAVIER)]
    fast_runs = grade.grade_fast(fast_root.path, [SETUP, VARIANCE, XAVIER], workers=2, progress=False, budget=300.0)
    return {"expected": expected, "roots": {"full": root, "fast": fast_root}, "tagged": tagged,
            "runs": {"full": full_runs, "fast": fast_runs}}


def _tag_experiments(path: Path, cell_ids) -> None:
    """Tag cells ``experiment`` in a source notebook (the course's own tags, and these)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.id in cell_ids and "experiment" not in cell.metadata.get("tags", []):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "experiment"]
    nbformat.write(nb, path)


def _report(root: CourseRoot, assignment: str, student: str) -> dict:
    path = root.path / "grading" / assignment / "logs" / f"{student}.jsonl"
    return json.loads(path.read_text().splitlines()[0])


def _wrong_var_of_product(root: CourseRoot) -> dict[str, float]:
    scores = root.expected_scores(VARIANCE, {})
    scores["01-var_of_product-interface"] = root.graded_points(VARIANCE)["01-var_of_product-interface"]
    return scores


def _edit_cell(path: Path, cell_id: str) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.id == cell_id:
            cell.source += "\nprint('the student changed this cell')"
    nbformat.write(nb, path)


def _notebook(root: CourseRoot, student: str, assignment: str):
    return nbformat.read(root.path / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


STUDENTS = [*HONEST, *ACROSS, EDITED, READS]


@pytest.mark.parametrize("student", STUDENTS)
def test_the_fast_path_scores_every_cell_as_full_autograde_does(both_ways, student):
    full, quick = both_ways["roots"]["full"], both_ways["roots"]["fast"]
    for assignment, expected in both_ways["expected"][student].items():
        assert quick.cell_scores(student, assignment) == full.cell_scores(student, assignment), assignment
        assert quick.cell_scores(student, assignment) == expected, assignment


def test_the_fast_path_commits_what_full_autograde_commits(both_ways):
    for full, quick in zip(both_ways["runs"]["full"], both_ways["runs"]["fast"]):
        assert full.course.assignment == quick.course.assignment
        assert {s: r.status for s, r in quick.results.items()} == {s: r.status for s, r in full.results.items()}
        assert all(r.status == "graded" and not r.zeroed for r in quick.results.values()), quick.summary
        for student in quick.results:
            assert list((quick.course.root / "feedback" / student / quick.course.assignment).glob("*.html")), student
    assert both_ways["roots"]["fast"].grades() == both_ways["roots"]["full"].grades()


def test_unchanged_experiment_cells_are_skipped_and_a_changed_one_runs(both_ways):
    full, quick = both_ways["roots"]["full"], both_ways["roots"]["fast"]
    for cell_id in SKIPPED_IDS:
        assert [c.outputs for c in _notebook(quick, "solver", VARIANCE).cells if c.id == cell_id] == [[]], cell_id
        assert [c for c in _notebook(full, "solver", VARIANCE).cells if c.id == cell_id][0].outputs, cell_id
    tagged = both_ways["tagged"]  # the course's own tags in 01, and SKIPPED_IDS
    assert set(SKIPPED_IDS) <= set(tagged)
    assert _report(quick, VARIANCE, "solver")["skipped"] == len(tagged)
    assert _report(full, VARIANCE, "solver")["skipped"] == 0
    edited = json.dumps([c.outputs for c in _notebook(quick, EDITED, VARIANCE).cells if c.id == SKIPPED_IDS[0]])
    assert "the student changed this cell" in edited
    assert _report(quick, VARIANCE, EDITED)["skipped"] == len(tagged) - 1
    reader = _report(quick, VARIANCE, READS)
    assert reader["skipped"] == 0 and "'x'" in reader["experiments_ran"], reader


def _output_kinds(root: CourseRoot, student: str, assignment: str) -> dict[str, list[str]]:
    """cell id → the kinds of its outputs (stream name, or the MIME types of a display)."""
    return {c.id: [o.get("name") or ",".join(sorted(o.get("data", {}))) for o in c.outputs]
            for c in _notebook(root, student, assignment).cells if c.cell_type == "code"}


def test_cells_that_run_on_the_fast_path_show_what_they_show_on_the_full_path(both_ways):
    """READS skips nothing on the fast path: each cell's outputs are of the same kinds as on
    the full path — figures included (a forked kernel must use the inline backend, as a fresh
    kernel does, though its parent imported matplotlib before the kernel existed)."""
    full, quick = both_ways["roots"]["full"], both_ways["roots"]["fast"]
    shown = _output_kinds(full, READS, VARIANCE)
    assert any("image/png" in kind for kinds in shown.values() for kind in kinds), shown
    assert _output_kinds(quick, READS, VARIANCE) == shown
    edited = SKIPPED_IDS[0]
    assert _output_kinds(quick, EDITED, VARIANCE)[edited] == _output_kinds(full, EDITED, VARIANCE)[edited]


def test_a_parent_with_a_second_thread_refuses_to_fork():
    from initgrader import forked

    program = ("import runpy, threading, time, json\n"
               f"server = runpy.run_path({str(forked.SERVER_SCRIPT)!r}, run_name='not_main')\n"
               "threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
               "print(json.dumps(server['fork']({}, (0, 1))))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert "pid" not in reply and "threads" in reply["error"], reply


def test_without_a_parent_each_notebook_is_graded_by_a_fresh_confined_kernel(tmp_path, monkeypatch):
    """A parent that cannot start (here: forced by the test hook) costs time, not points."""
    from tools import grade

    from initgrader import fast, forked

    root = CourseRoot.create(tmp_path, [SETUP, VARIANCE])
    expected = {a: root.submit_class(a, {"solver": {g: "solution" for g in root.answer_ids(a)}})["solver"]
                for a in (SETUP, VARIANCE)}
    jobs = [grade.JobMaker(grade.Course.load(root.path, a), tmp_path, timeout=120, sandbox=True, limit=900,
                           budget=300.0).for_student("solver") for a in (SETUP, VARIANCE)]
    monkeypatch.setenv(forked.NO_PARENT_VARIABLE, "1")
    outcomes = fast.run_student(jobs, scratch=tmp_path)
    for assignment, outcome in zip((SETUP, VARIANCE), outcomes):
        assert outcome.code == 0, outcome.log.decode()[-2000:]
        assert "test's way" in outcome.report[0]["no_parent"]
        copy = tmp_path / f"{assignment}.db"
        copy.write_bytes(outcome.gradebook)
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{copy}") as gb:
            submission = gb.find_submission(assignment, "solver")
            assert {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades} == expected[assignment]


def test_a_rerun_on_the_fast_path_grades_only_what_changed(both_ways, monkeypatch):
    """Resumable runs (the grading key) on the fast path: a rerun with nothing changed grades
    no one and keeps every score; after one student edits one notebook, that student's job
    holds that assignment alone. (Last in the file: it grades the fast root again.)"""
    from tools import grade

    from initgrader import fast

    quick = both_ways["roots"]["fast"]
    scores = {(s, a): quick.cell_scores(s, a) for s, plan in both_ways["expected"].items() for a in plan}
    graded, real = [], fast.run_student

    def recording(student_jobs, experiments=None, scratch=None):
        graded.append(sorted((j.student, j.assignment) for j in student_jobs))
        return real(student_jobs, experiments, scratch)

    monkeypatch.setattr(fast, "run_student", recording)
    grade.grade_fast(quick.path, [SETUP, VARIANCE, XAVIER], workers=2, progress=False, budget=300.0)
    assert graded == []
    assert {(s, a): quick.cell_scores(s, a) for s, a in scores} == scores

    _edit_cell(quick.path / "submitted" / "solver" / VARIANCE / f"{VARIANCE}.ipynb", SKIPPED_IDS[1])
    grade.grade_fast(quick.path, [SETUP, VARIANCE, XAVIER], workers=2, progress=False, budget=300.0)
    assert graded == [[("solver", VARIANCE)]]
    assert {(s, a): quick.cell_scores(s, a) for s, a in scores} == scores


def test_a_cell_past_the_timeout_is_interrupted_and_the_forked_kernel_goes_on(tmp_path):
    """nbclient interrupts a cell past ``Execute.timeout`` (SIGINT to the kernel's process
    group): a forked kernel must raise KeyboardInterrupt and go on, as a fresh one does — not
    die and restart without the student's earlier definitions."""
    from nbformat import v4
    from tools import grade

    from initgrader import fast, job

    root = CourseRoot.create(tmp_path, [VARIANCE])
    expected = root.submit_class(VARIANCE, {"looper": {g: "solution" for g in root.answer_ids(VARIANCE)}})["looper"]
    path = root.path / "submitted" / "looper" / VARIANCE / f"{VARIANCE}.ipynb"
    nb = nbformat.read(path, as_version=4)
    first_answer = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells.insert(first_answer + 1, v4.new_code_cell("import time\nwhile True:\n    time.sleep(0.05)"))
    nbformat.write(nb, path)
    job_ = grade.JobMaker(grade.Course.load(root.path, VARIANCE), tmp_path, timeout=5, sandbox=True, limit=900,
                          budget=300.0).for_student("looper")
    from nbgrader.api import Gradebook

    for way, outcome in (("full", job.run(job_, tmp_path)), ("fast", fast.run_student([job_], scratch=tmp_path)[0])):
        assert outcome.code == 0, outcome.log.decode()[-2000:]
        assert outcome.report[0]["restarts"] == 0, (way, outcome.report)
        copy = tmp_path / f"{way}.db"
        copy.write_bytes(outcome.gradebook)
        with Gradebook(f"sqlite:///{copy}") as gb:
            submission = gb.find_submission(VARIANCE, "looper")
            assert {g.name: float(g.score) for n in submission.notebooks for g in n.grades} == expected, way
        autograded = nbformat.reads(outcome.autograded[f"{VARIANCE}.ipynb"].decode(), as_version=4)
        looped = next(c for c in autograded.cells if c.source.startswith("import time\nwhile True"))
        assert [o.get("ename") for o in looped.outputs] == ["KeyboardInterrupt", "CellTimeoutError"], way


@pytest.mark.parametrize("reply, counted", [
    ({"killed": 0, "cpu_s": {"parent": 1.5, "kernels": 2}}, {"parent": 1.5, "kernels": 2.0}),
    ({"killed": 0, "cpu_s": {"parent": "1.5", "kernels": 2.0}}, None),
    ({"killed": 0, "cpu_s": {"parent": True, "kernels": 2.0}}, None),
    ({"killed": 0, "cpu_s": [1, 2]}, None),
    ({"killed": 0}, None),
])
def test_the_parents_cpu_counts_are_kept_only_as_numbers(reply, counted):
    """The counts the parent reports after a notebook feed the bench only; a reply of another
    shape leaves the last counts as they were instead of breaking the notebook's report."""
    from initgrader import forked

    class Server:
        def alive(self):
            return True

        def request(self, message):
            assert message == {"op": "clean"}
            return reply

    kernels = object.__new__(forked.ForkedKernels)
    kernels.server, kernels.cpu_s = Server(), {"parent": 0.25, "kernels": 0.5}
    kernels.kernel_died()
    assert kernels.cpu_s == (counted or {"parent": 0.25, "kernels": 0.5})
