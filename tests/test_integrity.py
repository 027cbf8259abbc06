"""Hostile submissions, graded by real ``nbgrader autograde`` (COURSE.md §9, issue "Grades a
submission cannot forge").

One simulated class of 01-variance: three honest controls — the solution (3 points), a blank
(0) and a wrong answer, D(XY) = D(X)·D(Y) (interface passes, values fails: 1 point) — and
one student per attack. Each attack is the wrong answer plus code that tries to forge the
grade or reach outside its own submission; it must score exactly what its honest control
scores, classmates keep their points and files, and nothing it started outlives grading.
Points are read from nbgrader's ``grades.csv``; no test here calls a check directly.

Under CI (and wherever bubblewrap is installed) this runs confined; on Linux without
bubblewrap it fails rather than skips under ``CI=true``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.classroom import CourseRoot  # noqa: E402

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-variance"
ANSWER = "01-var_of_product"
WRONG = "def var_of_product(mean_x, var_x, mean_y, var_y):\n    return var_x * var_y\n"
RIGHT = ("def var_of_product(mean_x, var_x, mean_y, var_y):\n"
         "    return var_x * var_y + var_x * mean_y**2 + var_y * mean_x**2\n")
MARKER = "initgrader-integrity-daemon"
#: The class's time budget per notebook (grade --budget): 01's solution runs ~3-6 s of student
#: time here, so an honest notebook has a wide margin, and runs_past_the_budget ends in ~45 s.
BUDGET_S = 45.0
#: The daemon's program: rewrite grades.csv every half second for five minutes.
DAEMON_PROGRAM = ("import time\nfor _ in range(600):\n    time.sleep(0.5)\n    try:\n"
                  "        open('{root}/grades.csv', 'w').write('pwned')\n    except OSError:\n        pass\n")

#: student → (answer cell source, points it must score). {root}, {port}, {secret_file} and
#: {grader_marker} are filled in per run. An attack that "wins" defines RIGHT (3 points).
ATTACKS = {
    # --- forging the verdict in the kernel (each scored full marks before) -------------
    "patch_check": ("import initkit.checks\ninitkit.checks.check_var_of_product = lambda *a, **k: None\n" + WRONG, 1),
    "fake_module": ("import sys, types\nfake = types.ModuleType('initkit.checks')\n"
                    "fake.__getattr__ = lambda name: (lambda *a, **k: None)\n"
                    "sys.modules['initkit.checks'] = fake\n" + WRONG, 1),
    "input_transformer": ("get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n" + WRONG, 1),
    "patched_scipy": ("import scipy.stats, numpy\nscipy.stats.chi2.ppf = lambda *a, **k: 1e300\n"
                      "numpy.isclose = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n" + WRONG, 1),
    "lying_builtins": ("import builtins\nbuiltins.abs = lambda x: 0.0\nbuiltins.round = lambda *a: 0\n" + WRONG, 1),
    "origin_off_library": ("import initkit.checks._engine as e\ne.library_origin = lambda obj: ''\n"
                           "from initkit import var_of_product\n", 0),
    "library_wrapped": ("import initkit\ndef var_of_product(*args):\n    return initkit.var_of_product(*args)\n", 0),
    "serve_loop_replaced": ("import initgrader.kernel_serve as s\n"
                            "s._Server.op_call = lambda self, r: {{'result': 6.75, 'rng_states': []}}\n" + WRONG, 2),
    # --- reaching outside the submission ---------------------------------------------
    "read_solutions": ("import glob\ntry:\n    open('{root}/solutions/01-variance/01-variance.ipynb').read()\n"
                       "    LEAK = True\nexcept OSError:\n    LEAK = False\n"
                       "try:\n    open('{root}/gradebook.db', 'rb').read(16)\n    LEAK = True\nexcept OSError:\n    pass\n"
                       + RIGHT + "if not LEAK:\n" + textwrap.indent(WRONG, "    "), 1),
    "overwrite_classmate": ("import glob, os\nfor p in glob.glob('{root}/submitted/*/01-variance/*.ipynb') + "
                            "glob.glob('{root}/autograded/*/01-variance/*.ipynb'):\n"
                            "    try:\n        open(p, 'w').write('{{}}')\n    except OSError:\n        pass\n" + WRONG, 1),
    "write_course_root": ("for p in ('{root}/grades.csv', '{root}/pwned', '{root}/nbgrader_config.py'):\n"
                          "    try:\n        open(p, 'a').write('pwned')\n    except OSError:\n        pass\n" + WRONG, 1),
    "gradebook_write": ("import sqlite3\ntry:\n    db = sqlite3.connect('{root}/gradebook.db')\n"
                        "    db.execute('update grade set manual_score = 99')\n    db.commit()\nexcept Exception:\n"
                        "    pass\n" + WRONG, 1),
    "secret_in_env": ("import os\n" + RIGHT + "if 'INITGRADER_TEST_SECRET' not in os.environ:\n"
                      + textwrap.indent(WRONG, "    "), 1),
    "secret_file": ("import os\n" + RIGHT + "if not os.path.exists('{secret_file}'):\n"
                    + textwrap.indent(WRONG, "    "), 1),
    "see_grader_processes": ("import os\nseen = ''\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
                             "        try:\n            seen += open(f'/proc/{{pid}}/cmdline').read()\n"
                             "        except OSError:\n            pass\n"
                             + RIGHT + "if 'nbgrader' not in seen:\n" + textwrap.indent(WRONG, "    "), 1),
    "network": ("import socket\n" + RIGHT + "try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
                "except OSError:\n" + textwrap.indent(WRONG, "    "), 1),
    "ipython_startup": ("import os, glob\nfor home in ['~'] + glob.glob('/root') + glob.glob('/home/*'):\n"
                        "    d = os.path.expanduser(home) + '/.ipython/profile_default/startup'\n    try:\n"
                        "        os.makedirs(d, exist_ok=True)\n"
                        "        open(d + '/00-rig.py', 'w').write('import initkit.checks\\n"
                        "initkit.checks.check_var_of_product = lambda *a, **k: None\\n')\n"
                        "    except OSError:\n        pass\n" + WRONG, 1),
    "daemon": ("import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
               "        os.execv(sys.executable, [sys.executable, '-c', DAEMON, '" + MARKER + "'])\n"
               "    os._exit(0)\n" + WRONG, 1),
    "kill_everything": ("import os, signal\n" + RIGHT + "for pid in range(2, 70000):\n    try:\n"
                        "        os.kill(pid, signal.SIGKILL) if pid != os.getpid() else None\n"
                        "    except OSError:\n        pass\nos.kill(os.getppid(), signal.SIGKILL)\n"
                        "os.kill(os.getpid(), signal.SIGKILL)\n", 0),
    "exit_at_call": ("import os\ndef var_of_product(*args):\n    os._exit(0)\n", 0),
    "sys_exit_in_cell": (WRONG + "import sys\nsys.exit(0)\n", 1),
    "forks": ("import os, signal, time\nchildren = []\nfor _ in range(1500):\n    try:\n        pid = os.fork()\n"
              "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
              "    children.append(pid)\nfor pid in children:\n    os.kill(pid, signal.SIGKILL)\n    os.waitpid(pid, 0)\n"
              + RIGHT + "if len(children) < 1100:\n" + textwrap.indent(WRONG, "    "), 1),
    "memory_bomb_at_call": ("def var_of_product(*args):\n    x = bytearray(9 << 30)\n    return 6.75\n", 0),
    "sleeping_function": ("import time\ndef var_of_product(*args):\n    time.sleep(3600)\n    return 0.0\n", 0),
    "deaf_sleeping_function": ("import signal, time\ndef var_of_product(*args):\n"
                               "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    time.sleep(3600)\n", 0),
    "huge_reply": ("import numpy as np\ndef var_of_product(*args):\n    return np.zeros(25_000_000)\n", 0),
    "output_flood": (WRONG + "import sys, time\nprint('y' * 3_000_000)\nsys.stdout.flush()\ntime.sleep(0.5)\n"
                     "print('x' * 50_000_000)\n", 1),
    "runs_past_the_budget": (RIGHT + "import time\ntime.sleep(3600)\n", 0),
    "pickle_bomb": ("class Evil:\n    def __reduce__(self):\n        open('{grader_marker}', 'w').write('ran')\n"
                    "        return (print, ('x',))\nopen('{grader_marker}', 'w').write('ran')\n"
                    "def var_of_product(*args):\n    return Evil()\n", 0),
    "sidecar_module": (WRONG, 1),  # ships initkit/checks.py next to the notebook (below)
}
#: Attacks that need more than an answer cell: extra files in their submission folder.
SIDECARS = {"sidecar_module": {"initkit/__init__.py": "",
                               "initkit/checks.py": "def __getattr__(name):\n    return lambda *a, **k: None\n"}}
def _paste_check_cell(nb):
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{ANSWER}-values"]
    paste = nbformat.from_dict(dict(cells[0]))
    paste["id"] = "pasted-in-jupyterlab"
    nb.cells.insert(nb.cells.index(cells[0]) + 1, paste)


def _set_meta(target, **changes):
    def change(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == target:
                cell.metadata.nbgrader.update(changes)
    return change


def _delete_cell(grade_id):
    def delete(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return delete


def _add_graded_cell(nb):
    cell = nbformat.v4.new_code_cell("print('bonus')")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "bonus",
                                 "points": 100, "schema_version": 3}
    nb.cells.append(cell)


#: Honest mistakes JupyterLab allows, each on the solution: graded, not failed (3 points).
HONEST_MISTAKES = {
    "honest_pasted_check_cell": _paste_check_cell,
    "honest_renamed_grade_id": _set_meta(ANSWER, grade_id="my-answer"),
    "honest_flipped_graded_flag": _set_meta(f"{ANSWER}-interface", grade=False),
    "honest_deleted_test_cell": _delete_cell(f"{ANSWER}-values"),
    "honest_added_graded_cell": _add_graded_cell,
}

#: Where a student adds a cell that SIGKILLs its own kernel: before each code cell of the
#: released notebook in turn (and at the end). The kernel is restarted, the cells before the
#: killing one are re-run, the rest go on: the solution keeps its 3 points wherever it dies.
KILL_CELL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
#: serve_loop_replaced makes every function of the notebook "return" 6.75: it earns what
#: functions that honestly return 6.75 earn (var_of_product's and preactivation_variance's
#: interface cells), no more.
RETURNS_6_75 = "returns 6.75"  # every answer cell: def <its function>(*args): return 6.75
CONTROLS = {"control_solver": (None, 3), "control_blank": ("", 0), "control_wrong": (WRONG, 1),
            "control_returns_6_75": (RETURNS_6_75, 2),
            "zz_after_startup_attack": (WRONG, 1)}


def _bubblewrap_required() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true" or sys.platform == "linux":
            pytest.fail("bubblewrap (bwrap) is missing: the integrity tests need it (apt-get install bubblewrap)")
        pytest.skip("confinement needs Linux and bubblewrap")


def _hostile_root(tmp: Path) -> tuple[CourseRoot, dict, Path, socket.socket]:
    """The hostile class, submitted and not graded: (root, student → points it must score,
    the grader's marker file, the listener the network attack tries to reach)."""
    root = CourseRoot.create(tmp, [ASSIGNMENT])
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write("\nc.IsolatedExecute.cell_budget = 4.0\nc.IsolatedExecute.grace = 3.0\n")
    secret_file = tmp / "instructor-secret.txt"
    secret_file.write_text("course secret")
    grader_marker = tmp / "unpickled-in-grader"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    fill = {"root": root.path, "port": listener.getsockname()[1], "secret_file": secret_file,
            "grader_marker": grader_marker}
    expected = {}
    for student, (source, points) in {**CONTROLS, **ATTACKS}.items():
        answer = root.solution_answer(ASSIGNMENT, ANSWER) if source is None else source.format(**fill)
        if student == "daemon":
            answer = f"DAEMON = {DAEMON_PROGRAM.format(**fill)!r}\n" + answer
        answers = {ANSWER: answer} if source != "" else {}
        if source == RETURNS_6_75:
            answers = {a: f"def {a.split('-', 1)[1]}(*args):\n    return 6.75\n" for a in root.answer_ids(ASSIGNMENT)}
        root.submit(student, ASSIGNMENT, answers)
        for name, text in SIDECARS.get(student, {}).items():
            (root.path / "submitted" / student / ASSIGNMENT / name).parent.mkdir(parents=True, exist_ok=True)
            (root.path / "submitted" / student / ASSIGNMENT / name).write_text(text)
        expected[student] = points
    for student, change in HONEST_MISTAKES.items():
        root.submit(student, ASSIGNMENT, {ANSWER: root.solution_answer(ASSIGNMENT, ANSWER)})
        path = root.path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nb = nbformat.read(path, as_version=4)
        change(nb)
        nbformat.write(nb, path)
        expected[student] = 3
    for position in _kill_positions(root):
        student = f"kill_before_cell_{position:02d}"
        root.submit(student, ASSIGNMENT, {ANSWER: root.solution_answer(ASSIGNMENT, ANSWER)})
        path = root.path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(position, nbformat.v4.new_code_cell(KILL_CELL))
        nbformat.write(nb, path)
        expected[student] = 3
    return root, expected, grader_marker, listener


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    _bubblewrap_required()
    root, expected, grader_marker, listener = _hostile_root(tmp_path_factory.mktemp("integrity"))
    before = _fingerprints(root.path / "submitted")
    # Graded by our grade command (nbgrader autograde per student, 2 workers, then
    # generate_feedback and export), with a secret in the grader's environment.
    from tools.grade import Course, grade_class

    os.environ["INITGRADER_TEST_SECRET"] = "xyz"
    start = time.monotonic()
    try:
        run = grade_class(Course.load(root.path, ASSIGNMENT), workers=2, progress=False, budget=BUDGET_S)
    finally:
        del os.environ["INITGRADER_TEST_SECRET"]
        listener.close()
    seconds = time.monotonic() - start
    time.sleep(2.0)  # a daemon that escaped would rewrite grades.csv within this
    root.nbgrader("export", "--to", str(root.path / "grades.csv"))
    time.sleep(1.5)
    return {"root": root, "expected": expected, "before": before, "grader_marker": grader_marker,
            "seconds": seconds, "run": run}


#: The attacks on the kernel's own process, and the controls, graded again on the fast path
#: (``grade --fast``: the kernel forked from a parent it shares a sandbox with).
FAST_PATH_STUDENTS = ("control_solver", "control_blank", "control_wrong", "kill_everything", "exit_at_call",
                      "sys_exit_in_cell", "forks", "memory_bomb_at_call", "deaf_sleeping_function", "daemon",
                      "ipython_startup", "see_grader_processes", "network", "read_solutions",
                      "serve_loop_replaced", "output_flood", "kill_before_cell_01", "kill_before_cell_09")


@pytest.fixture(scope="module")
def hostile_class_fast(tmp_path_factory):
    _bubblewrap_required()
    root, expected, grader_marker, listener = _hostile_root(tmp_path_factory.mktemp("integrity-fast"))
    from tools.grade import BUDGET_FLOOR_S, grade_fast

    students = [s for s in FAST_PATH_STUDENTS if s in expected]
    os.environ["INITGRADER_TEST_SECRET"] = "xyz"
    try:
        # The production floor of the budget, not BUDGET_S: no attack here is about the budget, and
        # "forks" forks a kernel that holds torch and TensorFlow (the parent's imports) 1,100
        # times, which on a loaded machine took longer than 45 s — the budget, not the process
        # cap, would decide it.
        [run] = grade_fast(root.path, [ASSIGNMENT], workers=2, progress=False, budget=BUDGET_FLOOR_S,
                           students=students)
    finally:
        del os.environ["INITGRADER_TEST_SECRET"]
        listener.close()
    return {"root": root, "expected": expected, "run": run, "grader_marker": grader_marker, "students": students}


@pytest.mark.parametrize("student", FAST_PATH_STUDENTS)
def test_on_the_fast_path_each_attack_scores_what_its_honest_answer_earns(hostile_class_fast, student):
    run = hostile_class_fast["run"]
    assert student in hostile_class_fast["students"]
    assert run.results[student].score == hostile_class_fast["expected"][student], (
        f"{student}: {run.results[student].score} points, expected {hostile_class_fast['expected'][student]}\n"
        + _outputs(hostile_class_fast["root"], student))
    assert not hostile_class_fast["grader_marker"].exists()


def _kill_positions(root: CourseRoot) -> list[int]:
    cells = nbformat.read(root.released(ASSIGNMENT)[0], as_version=4).cells
    return [i for i, cell in enumerate(cells) if cell.cell_type == "code"] + [len(cells)]


def _fingerprints(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _grades(root: CourseRoot) -> dict:
    import csv

    with open(root.path / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize("student", sorted({**CONTROLS, **ATTACKS}))
def test_each_submission_scores_what_its_honest_answer_earns(hostile_class, student):
    grades = _grades(hostile_class["root"])
    assert grades[student] == hostile_class["expected"][student], (
        f"{student}: {grades[student]} points, expected {hostile_class['expected'][student]}\n"
        + _outputs(hostile_class["root"], student))


@pytest.mark.parametrize("student", sorted(HONEST_MISTAKES))
def test_an_honest_mistake_with_nbgrader_metadata_is_graded_not_failed(hostile_class, student):
    assert _grades(hostile_class["root"])[student] == 3.0, _outputs(hostile_class["root"], student)


def test_a_kernel_killed_before_any_cell_still_grades_the_solution_in_full(hostile_class):
    grades = _grades(hostile_class["root"])
    killed = {s: grades[s] for s in hostile_class["expected"] if s.startswith("kill_before_cell_")}
    assert len(killed) >= 5 and set(killed.values()) == {3.0}, killed


def _outputs(root: CourseRoot, student: str) -> str:
    lines = []
    for cell in root.autograded_cells(student, ASSIGNMENT):
        for out in cell.get("outputs", []):
            lines.append(str(out.get("text") or f"{out.get('ename')}: {out.get('evalue')}")[:400])
    return "\n".join(lines)


def test_the_summary_and_grades_csv_agree(hostile_class):
    run = hostile_class["run"]
    assert {s: r.score for s, r in run.results.items()} == _grades(hostile_class["root"])


def test_no_submission_changed_a_file_outside_its_own_copy(hostile_class):
    root = hostile_class["root"].path
    assert _fingerprints(root / "submitted") == hostile_class["before"]
    assert not (root / "pwned").exists()
    assert "pwned" not in (root / "nbgrader_config.py").read_text()
    assert "pwned" not in (root / "grades.csv").read_text()
    for home in (Path.home(), Path("/root")):
        assert not (home / ".ipython/profile_default/startup/00-rig.py").exists()


def test_the_gradebook_holds_no_score_a_kernel_wrote(hostile_class):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{hostile_class['root'].path / 'gradebook.db'}") as gb:
        for student in hostile_class["expected"]:
            submission = gb.find_submission(ASSIGNMENT, student)
            assert all(grade.manual_score is None for nb in submission.notebooks for grade in nb.grades), student


def test_no_process_outlives_its_submission(hostile_class):
    survivors = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if MARKER in Path(f"/proc/{pid}/cmdline").read_text():
                    survivors.append(pid)
            except OSError:
                pass
    assert survivors == []


def test_nothing_the_kernel_sent_was_unpickled_or_run_in_the_grader(hostile_class):
    assert not hostile_class["grader_marker"].exists()


def test_a_slow_function_gets_the_time_message_and_the_class_goes_on(hostile_class):
    text = _outputs(hostile_class["root"], "sleeping_function")
    assert "so the check stopped it" in text, text
    deaf = _outputs(hostile_class["root"], "deaf_sleeping_function")
    assert "time budget" in deaf or "stopped" in deaf, deaf


def test_a_notebook_past_its_time_budget_stops_and_its_graded_cells_score_zero(hostile_class):
    root, run = hostile_class["root"], hostile_class["run"]
    cells = [c for c in root.autograded_cells("runs_past_the_budget", ASSIGNMENT)
             if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
    assert cells and all(any(o.get("ename") == "TimeBudgetExhausted" for o in c.outputs) for c in cells)
    assert any("time budget" in p for p in run.results["runs_past_the_budget"].problems), \
        run.results["runs_past_the_budget"].problems
    logs = root.path / "grading" / ASSIGNMENT / "logs"
    honest = [json.loads(line) for line in (logs / "control_solver.jsonl").read_text().splitlines()]
    assert honest and honest[0]["budget_s"] == BUDGET_S and honest[0]["student_s"] < BUDGET_S / 3, honest
    assert not honest[0]["stopped"]


def test_an_output_flood_is_cut_before_it_is_kept(hostile_class):
    path = hostile_class["root"].path / "autograded" / "output_flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 2 << 20, path.stat().st_size  # 53 MB printed
    text = _outputs(hostile_class["root"], "output_flood")
    assert "the grader dropped this cell's output past 1,048,576 bytes" in text, text[-2000:]  # 3 MB: kept 1 MiB
    assert "the grader lost this cell's output after it: a message over 16,777,216 bytes" in text  # 50 MB


def test_every_graded_cell_of_a_dead_kernel_has_an_error_output(hostile_class):
    """nbgrader gives full points to a test cell without output: a cell the grader could not
    evaluate must carry an error."""
    for student in ("kill_everything", "exit_at_call", "memory_bomb_at_call"):
        cells = [c for c in hostile_class["root"].autograded_cells(student, ASSIGNMENT)
                 if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
        assert cells and all(any(o.output_type == "error" for o in c.outputs) for c in cells), student


def test_the_grade_command_refuses_links_and_oversized_notebooks_before_anything_parses_them(tmp_path):
    """nbgrader copies a submission with shutil.copy, which follows a link as the grader, and
    parses every notebook whole: ``tools/grade.py`` refuses a linked notebook, a 2 GiB one
    and one with 5,000 cells before nbgrader (or its own report) reads them."""
    _bubblewrap_required()
    from tools.grade import Course, grade_class

    root = CourseRoot.create(tmp_path, [ASSIGNMENT])
    root.submit("honest_wrong", ASSIGNMENT, {ANSWER: WRONG})
    notebook = f"{ASSIGNMENT}.ipynb"
    linked = root.path / "submitted" / "linked" / ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / notebook).symlink_to(root.path / "solutions" / ASSIGNMENT / notebook)
    huge = root.path / "submitted" / "huge" / ASSIGNMENT
    huge.mkdir(parents=True)
    with open(huge / notebook, "wb") as f:  # sparse: 2 GiB that would take minutes to parse
        f.truncate(2 << 30)
    many = root.path / "submitted" / "many_cells" / ASSIGNMENT
    many.mkdir(parents=True)
    cell = {"cell_type": "code", "metadata": {}, "source": "", "outputs": [], "execution_count": None}
    (many / notebook).write_text(json.dumps({"cells": [cell] * 5000, "metadata": {}, "nbformat": 4,
                                             "nbformat_minor": 5}))
    run = grade_class(Course.load(root.path, ASSIGNMENT), workers=1, progress=False, budget=60.0)
    assert _grades(root) == {"honest_wrong": 1.0, "linked": 0.0, "huge": 0.0, "many_cells": 0.0}
    assert {name: r.status for name, r in run.results.items()} == {
        "honest_wrong": "graded", "linked": "refused", "huge": "refused", "many_cells": "refused"}
    assert any("symbolic link" in p for p in run.results["linked"].problems)
    assert any("2048 MiB, over the 16 MiB limit for a notebook" in p for p in run.results["huge"].problems)
    assert any("more than 2,000 cells" in p for p in run.results["many_cells"].problems)
